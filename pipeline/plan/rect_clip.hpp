#pragma once
// Clipping to an axis-aligned rectangle without building geometries: a segment (Liang-Barsky),
// a ring cut as GEOS cuts it when it crosses the rectangle once (cut_ring_once), and any ring
// cut for its area (Sutherland-Hodgman). The plan measures how much of every object that
// crosses its tile's edge the tile shows; GEOS's rectangle clip made a geometry of each (a
// fifth of the plan's time, for a number).

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

// A ring (x y x y ..., closed: its first point is its last) cut to `r`: `out` is a closed ring
// whose signed area is the ring's signed area inside `r` (its winding number integrated over
// the rectangle; for a simple ring, the area of its inside there, with the ring's sign). Where
// the ring leaves the rectangle and comes back, `out` runs along the edge between, and may go
// back over itself there: right for area, not a geometry to draw. Empty when no part of it
// can be inside. `scratch` is for the passes between edges.
void clip_ring(const std::vector<double>& ring, const PlaneRect& r, std::vector<double>& out, std::vector<double>& scratch);

// `ring` (closed, as clip_ring makes it) without the points that lie between their two
// neighbours on one edge of `r`: no area is lost, and a ring that covers the rectangle is its
// four corners again, whose area is then exact (GEOS's clip gives the rectangle itself, and
// two objects covering a tile must tie, as they did).
void drop_points_within_edges(std::vector<double>& ring, const PlaneRect& r);

// The area of a closed ring (x y x y ...), summed from its least point (by x, then y) towards
// the lesser of that point's neighbours: the same ring gives the same bits whichever point it
// starts at and whichever way it runs (a relation's outer way and the way itself must tie).
double ring_area(const std::vector<double>& ring);

// A line or ring's points (x y x y ...; a ring's last point is its first) with the box of each
// run of `run` segments, so that a cut looks only at the runs that reach its rectangle: a
// forest's or a river's thousands of points are walked for every tile they cross.
struct IndexedPath {
    static constexpr std::size_t run = 16;
    std::vector<double> xy;
    std::vector<PlaneRect> runs; // run k: the box of points k * run ... (k + 1) * run (its segments' ends)
    PlaneRect box{0, 0, -1, -1};
    bool ccw = false; // a ring: it runs counter-clockwise (x right, y up)

    // Sets runs, box and ccw from xy.
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

// A closed ring whose boundary meets `r`'s at most twice, cut to `r` as GEOS's rectangle clip
// (RectangleIntersection, GEOS 3.11) cuts it, to the bit: the points where it enters and
// leaves, computed in GEOS's arithmetic, and between them the corners of `r` it goes around.
// A ring that does not cross gives itself when inside `r`, `r`'s corners when it surrounds
// `r`, else nothing. Returns how often it crosses (0 or 2), or -1 when its cut would take
// more than that (it crosses `r`'s boundary more than twice, only touches it, or has a point
// on it; `out` is then unspecified) or it has fewer than three points.
// Why to the bit: the plan projects the cut ring to the tile's CRS, where a straight lon/lat
// edge is not straight; other points along `r`'s edges, or the same points rounded otherwise,
// change the projected area by up to ~1e-6 px², which swaps two objects showing the same
// pixels (a relation and its outer way), and the jobs must not change.
int cut_ring_once(const IndexedPath& ring, const PlaneRect& r, std::vector<double>& out);

} // namespace skyscript::pipeline
