#pragma once
// Keeps the objects that intersect a region (a --bbox rectangle or the union of the
// --polygon polygons): a bbox pre-check, then GEOS's prepared-geometry intersection
// test, whose indexes make a test cost about log(vertices) however large the region.
// An object meets the union when it meets one of its polygons: each polygon is prepared
// on its own, so overlaps count as inside without computing the union (GEOS's overlay
// and validity checks can take minutes on a large, spiky polygon).

#include "osm/shape.hpp"

#include <memory>
#include <string>
#include <vector>

namespace skyscript::osm {

class SpatialFilter {
public:
    // The union of these polygons: each an OGC WKB Polygon or MultiPolygon in lon/lat.
    // Overlapping polygons (and overlapping parts of one MultiPolygon) count once: their
    // overlap is inside. std::invalid_argument when none has an area.
    explicit SpatialFilter(const std::vector<std::string>& polygon_wkbs);
    static SpatialFilter rectangle(const Box& box);
    SpatialFilter(SpatialFilter&&) noexcept;
    SpatialFilter& operator=(SpatialFilter&&) noexcept;
    ~SpatialFilter();

    const Box& bbox() const noexcept { return bbox_; }
    // The same region made again, for another thread (its own GEOS context and prepared polygons).
    SpatialFilter copy() const;
    // Not thread-safe: one filter is tested from one thread (each of the extract's ones has its copy()).
    bool contains(const Point& p) const;
    bool intersects(const Shape& shape, const Box& shape_box) const;

private:
    struct Geos;
    explicit SpatialFilter(std::unique_ptr<Geos> geos);

    std::unique_ptr<Geos> geos_;
    std::shared_ptr<const std::vector<std::string>> wkbs_; // what a polygon region was made from, for copy()
    Box bbox_;
    bool is_rectangle_ = false;
};

} // namespace skyscript::osm
