#pragma once
// Where an object's tiles can lie, known before any source is chosen: a lon/lat box that
// holds every tile tile_placement.hpp can place for it, at any GSD its focus tag allows
// (a source's GSD is at most the object's max GSD, or for a tag of the top GSD class any
// source's: tags::coarsest_shown_gsd), with any seeded offset. The extract
// uses it when it samples as it reads (pipeline/sample/): every object whose box meets
// this one may be among the focus object's surroundings, so it must stay in the catalog.
// A bound, not the tile: generous (a quarter more than the metres allow, for the UTM
// grid's scale and rotation), never smaller.

#include "osm/catalog_row.hpp"
#include "pipeline/tiles/tile_placement.hpp"

#include <optional>
#include <span>

namespace skyscript::pipeline {

// `head`: kind, osm_type, osm_id, bbox and max_gsd; `vertices`: a line's points in order
// (as the catalog stores them); `coarsest_source_gsd`: the coarsest GSD of the build's
// sources. The box may reach past +-180 in longitude (not wrapped). Nothing for an area
// too large for a tile at any GSD it allows (over max_px pixels).
std::optional<osm::Box> tile_reach(const osm::CatalogRow& head, std::span<const osm::Point> vertices, const PlacementOptions& options,
                                   double coarsest_source_gsd);

} // namespace skyscript::pipeline
