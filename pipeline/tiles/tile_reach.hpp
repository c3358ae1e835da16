#pragma once
// Where an object's tiles can lie, known before any source is chosen: a lon/lat box that
// holds every tile tile_placement.hpp can place for it, at any GSD its focus tag allows
// (a source's GSD is at most the object's max GSD), with any seeded offset. The extract
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
// (as the catalog stores them). The box may reach past +-180 in longitude (not wrapped).
// Nothing for an area too large for a tile at any GSD it allows (over max_px pixels).
std::optional<osm::Box> tile_reach(const osm::CatalogRow& head, std::span<const osm::Point> vertices, const PlacementOptions& options);

} // namespace skyscript::pipeline
