#pragma once
// Clipping to an axis-aligned rectangle without building geometries: a segment (Liang-Barsky,
// for a line's visible length) and a line cut as GEOS 3.11's rectangle clip cuts it, point for
// point (cut_line; polygons: polygon_clip.hpp). The plan measures and describes every object
// that crosses its tile's edge; GEOS's rectangle clip made geometries of each (a fifth of the
// plan's time).

#include <algorithm>
#include <cstddef>
#include <vector>

namespace skyscript::pipeline {

struct PlaneRect {
    double x0, y0, x1, y1; // edges included
};

// Whether two rects meet (edges included).
inline bool meet(const PlaneRect& a, const PlaneRect& b) { return !(a.x1 < b.x0 || a.x0 > b.x1 || a.y1 < b.y0 || a.y0 > b.y1); }
// The box of points first ... last (both included) of `xy` (x y x y ...).
inline PlaneRect box_of_points(const double* xy, std::size_t first, std::size_t last) {
    PlaneRect b{xy[2 * first], xy[2 * first + 1], xy[2 * first], xy[2 * first + 1]};
    for (std::size_t i = first + 1; i <= last; ++i) {
        b.x0 = std::min(b.x0, xy[2 * i]), b.x1 = std::max(b.x1, xy[2 * i]);
        b.y0 = std::min(b.y0, xy[2 * i + 1]), b.y1 = std::max(b.y1, xy[2 * i + 1]);
    }
    return b;
}
// The box of both.
inline PlaneRect united(const PlaneRect& a, const PlaneRect& b) {
    return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

// The part of segment a-b inside `r`, as parameters t0 <= t1 along it; false when none of it is.
bool clip_segment(double ax, double ay, double bx, double by, const PlaneRect& r, double& t0, double& t1);

// A line or ring's points (x y x y ...; a ring's last point is its first) with the box of each
// run of `run` segments, so that a cut looks only at the runs that reach its rectangle: a
// forest's or a river's thousands of points are walked for every tile they cross.
struct IndexedPath {
    static constexpr std::size_t run = 16;
    std::vector<double> xy;
    std::vector<PlaneRect> runs; // run k: the box of points k * run ... (k + 1) * run (its segments' ends)

    // Sets runs from xy.
    void index();
    std::size_t points() const { return xy.size() / 2; }
    // The runs whose box meets `r` (edges included), as ranges of segments [first, last), in order.
    template <class F> void for_each_run_meeting(const PlaneRect& r, F&& f) const {
        const std::size_t segments = points() ? points() - 1 : 0;
        for (std::size_t k = 0; k < runs.size(); ++k) {
            if (!meet(runs[k], r)) continue;
            f(k * run, std::min(segments, (k + 1) * run));
        }
    }
};

// GEOS 3.11's Rectangle::position: inside_pos or outside_pos (strictly), else the edges the
// point lies on (left_pos | bottom_pos at a corner, ...).
enum RectPosition : unsigned { inside_pos = 1, outside_pos = 2, left_pos = 4, top_pos = 8, right_pos = 16, bottom_pos = 32 };
unsigned rect_position(const PlaneRect& r, double x, double y);

// A line (n points, x y x y ...) cut to `r` as GEOS's rectangle clip cuts it
// (RectangleIntersection::clip_linestring_parts, GEOS 3.11), point for point: each part GEOS
// would make a LineString of is appended to `out`, and its end (an index into `out`) to `ends`.
// True when the whole line is inside `r` (GEOS then takes the line as it is; nothing appended).
// `runs` (or null): the line's IndexedPath::runs, to pass over runs of points wholly beyond an edge.
bool cut_line(const double* xy, std::size_t n, const PlaneRect& r, std::vector<double>& out, std::vector<std::size_t>& ends,
              const std::vector<PlaneRect>* runs = nullptr);
// The same as GEOS's clip_linestring takes it: the whole line appended as one part when it is
// wholly inside `r`.
void clip_line(const double* xy, std::size_t n, const PlaneRect& r, std::vector<double>& out, std::vector<std::size_t>& ends,
               const std::vector<PlaneRect>* runs = nullptr);

} // namespace skyscript::pipeline
