#pragma once
// The objects around a focus object in its tile (docs/sampling.md): every catalog object
// whose box meets the tile, but the focus, with only the tags still groundable at the
// tile's GSD (an object left without a feature tag is not visible there and is dropped),
// most prominent first, at most `max_objects`. Prominence is the visible size: an area's
// m² times the share of its bbox inside the tile; a line's length times that share times
// a nominal 4 m width; a point counts as 1 m². Boxes, not exact clipping: a planner-speed
// approximation, documented in the README.

#include "imagery/tile_grid.hpp"
#include "pipeline/plan/catalog_index.hpp"

#include <string>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

using TagPairs = std::vector<std::pair<std::string, std::string>>;

// The object's tags that are groundable at `gsd`, in catalog order; empty when none of
// them is a feature visible at that GSD.
TagPairs tags_visible_at(const CatalogIndex& index, const IndexedObject& object, double gsd);

std::vector<TagPairs> find_surroundings(const CatalogIndex& index, const imagery::TileGrid& grid, std::int64_t focus_fid,
                                        std::size_t max_objects = 50);

} // namespace skyscript::pipeline
