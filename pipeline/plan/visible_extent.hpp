#pragma once
// How much of an object a tile shows, exactly (issue 22): its geometry (from the catalog)
// in the tile's own CRS and pixels, clipped to the tile with GEOS: the visible area in px²
// (areas), length in px (lines), or presence (points, 1 px), and its share of the whole.
// An object whose box lies inside the tile is taken whole without reading its geometry: most
// of a tile's objects, so exact clipping costs only those that cross the tile's edge; of
// those, lines and valid areas are measured without making GEOS geometries (rect_clip.hpp),
// and the named ones are described (clipped, simplified) by copies of GEOS 3.11.1's own
// algorithms on coordinates (rect_clip.hpp, polygon_clip.hpp, topology_simplifier.hpp): the
// same points GEOS gives, GEOS itself where a copy cannot tell or another GEOS runs.

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
    // How far px may lie from what GEOS's clip measures (0: it is that). An area crossing the
    // tile's edge is measured without GEOS (rect_clip.hpp), which rounds otherwise: by ~1e-10
    // px². The plan's choices must not turn on that: a comparison closer than this margin is
    // made again with measure_exact(), and describe() writes GEOS's figure.
    double margin = 0;
};

class VisibleExtent {
public:
    // exact: every measure and description as GEOS makes it (measure() is measure_exact(); describe()
    // clips, simplifies and measures with GEOS alone), to check the others against.
    // copies = false: areas crossing a tile's edge measured by rect_clip with a margin, not by
    // the copy of GEOS's clip (polygon_clip.hpp); the plan's fallback where that copy gives up,
    // checked on its own in the tests.
    explicit VisibleExtent(CatalogReader& catalog, bool exact = false, bool copies = true);
    ~VisibleExtent();
    VisibleExtent(const VisibleExtent&) = delete;
    VisibleExtent& operator=(const VisibleExtent&) = delete;

    Visible measure(const IndexedObject& object, const imagery::TileGrid& grid);
    // The same, as GEOS measures it: margin 0.
    Visible measure_exact(const IndexedObject& object, const imagery::TileGrid& grid);

    // The object in the image's pixels (x right, y down from the top-left corner), for the
    // meta's `objects` (docs/dataset-format.md): bbox_px [x0, y0, x1, y1], geometry_px (areas:
    // polygons of rings, lines: parts, a point: [x, y]; clipped to the tile, simplified to
    // within half a pixel, 2 decimals), and `visible` (what measure() gave for them; GEOS's
    // figures when it gave them within a margin) as visible_px and visible_share. Appended to
    // `out` as JSON members ("bbox_px":[...], "geometry_px":...,...) written directly
    // (nlohmann's DOM was the plan's largest allocator); false, and nothing appended, when
    // none of it is in the tile or its geometry cannot be read.
    bool describe(std::string& out, const IndexedObject& object, const imagery::TileGrid& grid, const Visible& visible);

private:
    Visible measure(const IndexedObject& object, const imagery::TileGrid& grid, bool exact);
    std::optional<bool> whole_in_tile(const IndexedObject& object, const imagery::TileGrid& grid);
    struct Impl;
    std::unique_ptr<Impl> impl_;
    bool exact_;
    bool copies_;
};

} // namespace skyscript::pipeline
