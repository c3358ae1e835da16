#pragma once
// How much of an object a tile shows, exactly (issue 22): its geometry (from the catalog)
// in the tile's own CRS and pixels, clipped to the tile with GEOS: the visible area in px²
// (areas), length in px (lines), or presence (points, 1 px), and its share of the whole.
// An object whose box lies inside the tile is taken whole without reading its geometry: most
// of a tile's objects, so exact clipping costs only those that cross the tile's edge; of
// those, lines are measured a segment at a time (rect_clip.hpp), areas by a copy of GEOS
// 3.11.1's own clip on coordinates (polygon_clip.hpp), and the named ones are described
// (clipped, simplified) by copies of its algorithms too (rect_clip.hpp, polygon_clip.hpp,
// topology_simplifier.hpp): the same points and figures GEOS gives, GEOS itself where a copy
// cannot tell or another GEOS runs.

#include "imagery/tile_grid.hpp"
#include "pipeline/plan/catalog_index.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace skyscript::pipeline {

class CatalogReader;

struct Visible {
    double px = 0;    // area in px², length in px, 1 for a point in the tile, 0 when none of it is
    double share = 0; // of the whole object's area or length (points: 0 or 1)
};

class VisibleExtent {
public:
    // exact: areas measured, and everything described, by GEOS itself (not by the copies of its
    // algorithms), to check the copies against.
    explicit VisibleExtent(CatalogReader& catalog, bool exact = false);
    ~VisibleExtent();
    VisibleExtent(const VisibleExtent&) = delete;
    VisibleExtent& operator=(const VisibleExtent&) = delete;

    Visible measure(const IndexedObject& object, const imagery::TileGrid& grid);

    // The object in the image's pixels (x right, y down from the top-left corner), for the
    // meta's `objects` (docs/dataset-format.md): bbox_px [x0, y0, x1, y1], geometry_px (areas:
    // polygons of rings, lines: parts, a point: [x, y]; clipped to the tile, simplified to
    // within half a pixel, 2 decimals), and `visible` (what measure() gave for them) as
    // visible_px and visible_share. Appended to `out` as JSON members ("bbox_px":[...],
    // "geometry_px":...,...) written directly (nlohmann's DOM was the plan's largest
    // allocator); false, and nothing appended, when none of it is in the tile or its geometry
    // cannot be read.
    bool describe(std::string& out, const IndexedObject& object, const imagery::TileGrid& grid, const Visible& visible);

private:
    bool copies() const;
    std::optional<bool> whole_in_tile(const IndexedObject& object, const imagery::TileGrid& grid);
    struct Impl;
    std::unique_ptr<Impl> impl_;
    bool exact_;
};

} // namespace skyscript::pipeline
