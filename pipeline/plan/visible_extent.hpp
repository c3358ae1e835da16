#pragma once
// How much of an object a tile shows, exactly (issue 22): its geometry (from the catalog)
// in the tile's own CRS and pixels, clipped to the tile with GEOS: the visible area in px²
// (areas), length in px (lines), or presence (points, 1 px), and its share of the whole.
// An object whose box lies inside the tile is taken whole without reading its geometry: most
// of a tile's objects, so exact clipping costs only those that cross the tile's edge.

#include "imagery/tile_grid.hpp"
#include "pipeline/plan/catalog_index.hpp"

#include <cstdint>
#include <memory>

namespace skyscript::pipeline {

class CatalogReader;

struct Visible {
    double px = 0;    // area in px², length in px, 1 for a point in the tile, 0 when none of it is
    double share = 0; // of the whole object's area or length (points: 0 or 1)
};

class VisibleExtent {
public:
    explicit VisibleExtent(CatalogReader& catalog);
    ~VisibleExtent();
    VisibleExtent(const VisibleExtent&) = delete;
    VisibleExtent& operator=(const VisibleExtent&) = delete;

    Visible measure(const IndexedObject& object, const imagery::TileGrid& grid);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace skyscript::pipeline
