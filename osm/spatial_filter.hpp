#pragma once
// Keeps the objects that intersect a region (a --bbox rectangle or --polygon
// polygons): an exact test on the object's coordinates, after a bbox pre-check.

#include "shape.hpp"

#include <vector>

namespace skyscript::osm {

class SpatialFilter {
public:
    // Rings in lon/lat, closed or not; inner rings are told apart by even-odd.
    explicit SpatialFilter(std::vector<std::vector<Point>> rings);
    static SpatialFilter rectangle(const Box& box);

    const Box& bbox() const noexcept { return bbox_; }
    bool contains(const Point& p) const noexcept;
    bool intersects(const Shape& shape, const Box& shape_box) const;

private:
    std::vector<std::vector<Point>> rings_; // each stored closed
    Box bbox_;
    bool is_rectangle_ = false;
};

} // namespace skyscript::osm
