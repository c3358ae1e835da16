#pragma once
// GEOS 3.11.1's arithmetic that the plan's copies of its algorithms share (the topology-
// preserving simplifier, Douglas-Peucker, the rectangle clip of polygons), operation for
// operation so that they answer as GEOS does to the bit, and built with -ffp-contract=off. Where
// GEOS would go on in double-double arithmetic, they report that they cannot tell.

#include "pipeline/plan/rect_clip.hpp"

#include <cstddef>
#include <optional>
#include <vector>

namespace skyscript::pipeline::geos_arithmetic {

constexpr int cannot_tell = 2;

// CGAlgorithmsDD::orientationIndexFilter: 1 left, -1 right, 0 on the line through a and b;
// cannot_tell where GEOS goes on in double-double arithmetic.
int orientation(double ax, double ay, double bx, double by, double cx, double cy);

// Distance::pointToSegment(p, a, b).
double point_to_segment(double px, double py, double ax, double ay, double bx, double by);

// Orientation::isCCW of a closed ring of n points (x y x y ...); nullopt where the orientation
// filter cannot tell or GEOS would throw (under 4 points).
std::optional<bool> is_ccw(const double* xy, std::size_t n);

// PointLocation::locateInRing (RayCrossingCounter) of (x, y) in a closed ring of n points.
// `runs` (or null): the boxes of the ring's runs of segments (IndexedPath::runs); a run
// wholly left of, above or below the point is passed over, as it adds nothing.
enum class Location { interior, boundary, exterior };
std::optional<Location> locate_in_ring(double x, double y, const double* xy, std::size_t n, const std::vector<PlaneRect>* runs = nullptr);

} // namespace skyscript::pipeline::geos_arithmetic
