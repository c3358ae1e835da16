#pragma once
// The objects around a focus object in its tile (docs/sampling.md): every catalog object
// whose box meets the tile, but the focus, with only the tags still groundable at the
// tile's GSD (an object left without a feature tag is not visible there and is dropped),
// most prominent first, at most `max_objects`. Prominence is the visible size, measured
// exactly (visible_extent.hpp: the geometry clipped to the tile): an area's visible m², a
// line's visible length times a nominal 4 m width, 1 m² for a point. An object showing less
// than `min` (--min-visible-px) is not among them.

#include "captions/captioner.hpp"
#include "imagery/tile_grid.hpp"
#include "pipeline/plan/catalog_index.hpp"
#include "pipeline/plan/min_visible.hpp"
#include "pipeline/plan/visible_extent.hpp"

#include <vector>

namespace skyscript::pipeline {

// Keys and values viewed in the index's strings (alive as long as it is): a job's tags are
// read where they are, not copied (the copies were ~350 K allocations a million objects).
using TagViews = std::vector<captions::Tag>;

// The object's tags that are groundable at `gsd`, in catalog order; empty when none of
// them is a feature visible at that GSD.
TagViews tags_visible_at(const CatalogIndex& index, const IndexedObject& object, double gsd);

struct Surrounding {
    const IndexedObject* object;
    TagViews tags;   // its tags visible at the tile's GSD
    Visible visible; // how much of it the tile shows
};
std::vector<Surrounding> find_surroundings(const CatalogIndex& index, VisibleExtent& visible, const imagery::TileGrid& grid,
                                           std::int64_t focus_fid, const MinVisible& min = {}, std::size_t max_objects = 50);

} // namespace skyscript::pipeline
