#include "pipeline/plan/rect_clip.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace skyscript::pipeline {

bool clip_segment(double ax, double ay, double bx, double by, const PlaneRect& r, double& t0, double& t1) {
    // Wholly beyond one edge (most segments of a long line): none of it, without the divisions.
    if ((ax < r.x0 && bx < r.x0) || (ax > r.x1 && bx > r.x1) || (ay < r.y0 && by < r.y0) || (ay > r.y1 && by > r.y1)) return false;
    t0 = 0, t1 = 1;
    const double dx = bx - ax, dy = by - ay;
    const double p[4] = {-dx, dx, -dy, dy}, q[4] = {ax - r.x0, r.x1 - ax, ay - r.y0, r.y1 - ay};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0) return false; // parallel to this edge and outside it
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0) t0 = std::max(t0, t);
        else t1 = std::min(t1, t);
        if (t0 > t1) return false;
    }
    return true;
}

namespace {

// GEOS 3.11's RectangleIntersection: a point outside the rectangle moved along the segment
// towards (x2, y2) onto the edge it is beyond, x first, then y (clip_one_edge, clip_to_edges).
void clip_one_edge(double& x1, double& y1, double x2, double y2, double limit) {
    if (x2 == limit) {
        y1 = y2;
        x1 = x2;
    }
    if (x1 != x2) {
        y1 += (y2 - y1) * (limit - x1) / (x2 - x1);
        x1 = limit;
    }
}

void clip_to_edges(double& x1, double& y1, double x2, double y2, const PlaneRect& r) {
    if (x1 < r.x0) clip_one_edge(x1, y1, x2, y2, r.x0);
    else if (x1 > r.x1) clip_one_edge(x1, y1, x2, y2, r.x1);
    if (y1 < r.y0) clip_one_edge(y1, x1, y2, x2, r.y0);
    else if (y1 > r.y1) clip_one_edge(y1, x1, y2, x2, r.y1);
}

// One Sutherland-Hodgman pass: the open ring `in` (x y pairs, its last point joined to its
// first) kept on the inner side of the line coordinate[axis] = c (>= c when `low`, else <= c).
template <int axis, bool low>
void clip_edge(const std::vector<double>& in, double c, std::vector<double>& out) {
    out.clear();
    const std::size_t n = in.size() / 2;
    if (n == 0) return;
    auto inside = [&](std::size_t i) { return low ? in[2 * i + axis] >= c : in[2 * i + axis] <= c; };
    std::size_t prev = n - 1;
    bool prev_in = inside(prev);
    for (std::size_t i = 0; i < n; ++i) {
        const bool in_now = inside(i);
        if (in_now != prev_in) { // the segment crosses the line: where it does (one end is strictly beyond, so no division by 0)
            // From the end beyond towards the one inside, in GEOS's own arithmetic.
            const std::size_t o = in_now ? prev : i, k = in_now ? i : prev;
            constexpr int other = 1 - axis;
            double p[2] = {in[2 * o], in[2 * o + 1]};
            clip_one_edge(p[axis], p[other], in[2 * k + axis], in[2 * k + other], c);
            out.push_back(p[0]);
            out.push_back(p[1]);
        }
        if (in_now) {
            out.push_back(in[2 * i]);
            out.push_back(in[2 * i + 1]);
        }
        prev = i, prev_in = in_now;
    }
}

} // namespace

void clip_ring(const std::vector<double>& ring, const PlaneRect& r, std::vector<double>& out, std::vector<double>& scratch) {
    out.clear();
    if (ring.size() < 8) return; // fewer than 3 distinct points and the closing one: no area
    double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
    for (std::size_t i = 0; i < ring.size(); i += 2) {
        x0 = std::min(x0, ring[i]), x1 = std::max(x1, ring[i]);
        y0 = std::min(y0, ring[i + 1]), y1 = std::max(y1, ring[i + 1]);
    }
    if (x1 < r.x0 || x0 > r.x1 || y1 < r.y0 || y0 > r.y1) return; // wholly outside
    if (x0 >= r.x0 && x1 <= r.x1 && y0 >= r.y0 && y1 <= r.y1) { // wholly inside
        out = ring;
        return;
    }
    out.assign(ring.begin(), ring.end() - 2); // open: the passes join the last point to the first
    // Only the edges the ring crosses are passed (an edge it stays inside keeps it as it is).
    if (x0 < r.x0) clip_edge<0, true>(out, r.x0, scratch), out.swap(scratch);
    if (x1 > r.x1) clip_edge<0, false>(out, r.x1, scratch), out.swap(scratch);
    if (y0 < r.y0) clip_edge<1, true>(out, r.y0, scratch), out.swap(scratch);
    if (y1 > r.y1) clip_edge<1, false>(out, r.y1, scratch), out.swap(scratch);
    if (out.size() < 6) {
        out.clear();
        return;
    }
    out.push_back(out[0]); // closed again
    out.push_back(out[1]);
}

void drop_points_within_edges(std::vector<double>& ring, const PlaneRect& r) {
    if (ring.size() < 8) return;
    const auto on_one_edge = [&](const double* a, const double* b, const double* c) {
        return (a[0] == r.x0 && b[0] == r.x0 && c[0] == r.x0) || (a[0] == r.x1 && b[0] == r.x1 && c[0] == r.x1) ||
               (a[1] == r.y0 && b[1] == r.y0 && c[1] == r.y0) || (a[1] == r.y1 && b[1] == r.y1 && c[1] == r.y1);
    };
    ring.resize(ring.size() - 2); // open
    std::size_t kept = 0;         // ring[0, 2 * kept) holds the points kept so far
    for (std::size_t i = 0; i < ring.size(); i += 2) {
        while (kept >= 2 && on_one_edge(&ring[2 * kept - 4], &ring[2 * kept - 2], &ring[i])) --kept;
        ring[2 * kept] = ring[i], ring[2 * kept + 1] = ring[i + 1];
        ++kept;
    }
    // Where the ring closes: its last point between the one before and the first, its first
    // between the last and the second.
    std::size_t first = 0;
    for (bool changed = true; changed && kept - first >= 3;) {
        changed = false;
        if (on_one_edge(&ring[2 * kept - 4], &ring[2 * kept - 2], &ring[2 * first])) --kept, changed = true;
        else if (on_one_edge(&ring[2 * kept - 2], &ring[2 * first], &ring[2 * first + 2])) ++first, changed = true;
    }
    ring.erase(ring.begin() + static_cast<std::ptrdiff_t>(2 * kept), ring.end());
    ring.erase(ring.begin(), ring.begin() + static_cast<std::ptrdiff_t>(2 * first));
    if (ring.size() < 6) {
        ring.clear();
        return;
    }
    ring.push_back(ring[0]); // closed again
    ring.push_back(ring[1]);
}

double ring_area(const std::vector<double>& ring) {
    if (ring.size() < 8) return 0;
    const std::size_t n = ring.size() / 2 - 1; // points, the closing one not counted again
    const auto less = [&](std::size_t a, std::size_t b) { return ring[2 * a] < ring[2 * b] || (ring[2 * a] == ring[2 * b] && ring[2 * a + 1] < ring[2 * b + 1]); };
    std::size_t m = 0;
    for (std::size_t i = 1; i < n; ++i)
        if (less(i, m)) m = i;
    const std::size_t step = less((m + n - 1) % n, (m + 1) % n) ? n - 1 : 1; // towards the lesser neighbour
    // Relative to the least point: the products stay small, and so does their rounding.
    const double ox = ring[2 * m], oy = ring[2 * m + 1];
    double twice = 0;
    for (std::size_t k = 1, a = (m + step) % n; k + 1 < n; ++k) {
        const std::size_t b = (a + step) % n;
        twice += (ring[2 * a] - ox) * (ring[2 * b + 1] - oy) - (ring[2 * b] - ox) * (ring[2 * a + 1] - oy);
        a = b;
    }
    return std::abs(twice) / 2;
}

namespace {

// Where a point on `r`'s boundary lies along it, counter-clockwise from (x0, y0).
double along_boundary(const PlaneRect& r, double x, double y) {
    const double w = r.x1 - r.x0, h = r.y1 - r.y0;
    if (y == r.y0 && x != r.x1) return x - r.x0;
    if (x == r.x1 && y != r.y1) return w + (y - r.y0);
    if (y == r.y1 && x != r.x0) return w + h + (r.x1 - x);
    return 2 * w + h + (r.y1 - y);
}

// Whether (x, y) is inside the closed ring (crossing number; on the ring, either); runs wholly
// above, below or left of it cannot cross the ray to its right.
bool in_ring(const IndexedPath& ring, double x, double y) {
    bool in = false;
    const auto& p = ring.xy;
    for (std::size_t k = 0; k < ring.runs.size(); ++k) {
        const auto& b = ring.runs[k];
        if (b.y0 > y || b.y1 <= y || b.x1 < x) continue;
        const std::size_t end = std::min(ring.points() - 1, (k + 1) * IndexedPath::run);
        for (std::size_t i = k * IndexedPath::run; i < end; ++i) {
            const double ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * i + 2], by = p[2 * i + 3];
            if ((ay > y) != (by > y) && x < ax + (bx - ax) * (y - ay) / (by - ay)) in = !in;
        }
    }
    return in;
}

} // namespace

namespace {

bool on_edge(unsigned pos) { return pos > outside_pos; }
bool on_same_edge(unsigned a, unsigned b) { return on_edge(a & b); }
unsigned position(const PlaneRect& r, double x, double y) { return rect_position(r, x, y); }
bool different(double x1, double y1, double x2, double y2) { return !(x1 == x2 && y1 == y2); }

} // namespace

unsigned rect_position(const PlaneRect& r, double x, double y) {
    if (x > r.x0 && x < r.x1 && y > r.y0 && y < r.y1) return inside_pos;
    if (x < r.x0 || x > r.x1 || y < r.y0 || y > r.y1) return outside_pos;
    unsigned pos = 0;
    if (x == r.x0) pos |= left_pos;
    else if (x == r.x1) pos |= right_pos;
    if (y == r.y0) pos |= bottom_pos;
    else if (y == r.y1) pos |= top_pos;
    return pos;
}

bool cut_line(const double* xy, std::size_t n, const PlaneRect& rect, std::vector<double>& out, std::vector<std::size_t>& ends,
              const std::vector<PlaneRect>* runs) {
    // RectangleIntersection::clip_linestring_parts, statement for statement; a part it would
    // make a LineString of is appended to `out`, its end to `ends`.
    if (n < 1) return false;
    const auto cx = [&](std::size_t i) { return xy[2 * i]; };
    const auto cy = [&](std::size_t i) { return xy[2 * i + 1]; };
    auto add_part = [&](bool with_start, double sx, double sy, std::size_t from, std::size_t to, bool with_end, double ex, double ey) {
        if (with_start) out.push_back(sx), out.push_back(sy);
        out.insert(out.end(), xy + 2 * from, xy + 2 * to);
        if (with_end) out.push_back(ex), out.push_back(ey);
        ends.push_back(out.size());
    };
    double x0 = 0, y0 = 0;
    bool add_start = false;
    std::size_t i = 0;
    while (i < n) {
        double x = cx(i), y = cy(i);
        unsigned pos = position(rect, x, y);
        if (pos == outside_pos) {
            ++i;
            // GEOS's loops over the points beyond the same edge; a run of points wholly beyond it is passed over at once.
            const auto skip = [&](auto beyond, auto run_beyond) {
                while (i < n) {
                    if (runs && i % IndexedPath::run == 0 && i / IndexedPath::run < runs->size() && run_beyond((*runs)[i / IndexedPath::run])) {
                        i += IndexedPath::run; // its points i ... i + run are all beyond: on from its last
                        continue;
                    }
                    if (!beyond(i)) break;
                    ++i;
                }
                i = std::min(i, n);
            };
            if (x < rect.x0)
                skip([&](std::size_t k) { return cx(k) < rect.x0; }, [&](const PlaneRect& b) { return b.x1 < rect.x0; });
            else if (x > rect.x1)
                skip([&](std::size_t k) { return cx(k) > rect.x1; }, [&](const PlaneRect& b) { return b.x0 > rect.x1; });
            else if (y < rect.y0)
                skip([&](std::size_t k) { return cy(k) < rect.y0; }, [&](const PlaneRect& b) { return b.y1 < rect.y0; });
            else if (y > rect.y1)
                skip([&](std::size_t k) { return cy(k) > rect.y1; }, [&](const PlaneRect& b) { return b.y0 > rect.y1; });
            if (i >= n) return false;
            x = cx(i), y = cy(i);
            pos = position(rect, x, y);
            x0 = cx(i - 1), y0 = cy(i - 1);
            clip_to_edges(x0, y0, x, y, rect);
            if (pos == inside_pos) {
                add_start = true;
            } else if (pos == outside_pos) {
                clip_to_edges(x, y, x0, y0, rect);
                const unsigned prev_pos = position(rect, x0, y0);
                pos = position(rect, x, y);
                if (different(x0, y0, x, y) && on_edge(prev_pos) && on_edge(pos) && !on_same_edge(prev_pos, pos)) {
                    out.push_back(x0), out.push_back(y0), out.push_back(x), out.push_back(y);
                    ends.push_back(out.size());
                }
            } else {
                const unsigned newpos = position(rect, x0, y0);
                if (!on_same_edge(pos, newpos)) add_start = true;
            }
        } else {
            std::size_t start_index = i;
            bool go_outside = false;
            while (!go_outside && ++i < n) {
                x = cx(i), y = cy(i);
                const unsigned prev_pos = pos;
                pos = position(rect, x, y);
                if (pos == inside_pos) {
                } else if (pos == outside_pos) {
                    go_outside = true;
                    clip_to_edges(x, y, cx(i - 1), cy(i - 1), rect);
                    pos = position(rect, x, y);
                    const bool through_box = different(x, y, cx(i), cy(i)) && !on_same_edge(prev_pos, pos);
                    if (start_index < i - 1 || add_start || through_box) {
                        add_part(add_start, x0, y0, start_index, i, through_box, x, y);
                        add_start = false;
                    }
                } else if (on_same_edge(prev_pos, pos)) {
                    if (start_index < i - 1 || add_start) {
                        add_part(add_start, x0, y0, start_index, i, false, 0, 0);
                        add_start = false;
                    }
                    start_index = i;
                }
            }
            if (start_index == 0 && i >= n) return true;
            if (!go_outside && (start_index < i - 1 || add_start)) {
                add_part(add_start, x0, y0, start_index, i, false, 0, 0);
                add_start = false;
            }
        }
    }
    return false;
}

void IndexedPath::index() {
    runs.clear();
    box = {0, 0, -1, -1};
    const std::size_t n = points();
    if (n == 0) return;
    double twice_area = 0;
    for (std::size_t first = 0; first == 0 || first + 1 < n; first += run) { // a lone point is a run of its own
        runs.push_back(box_of_points(xy.data(), first, std::min(n - 1, first + run)));
    }
    box = runs[0];
    for (const auto& b : runs) box = united(box, b);
    for (std::size_t i = 0; i + 1 < n; ++i)
        twice_area += (xy[2 * i] - xy[0]) * (xy[2 * i + 3] - xy[1]) - (xy[2 * i + 2] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    ccw = twice_area > 0;
}

int cut_ring_once(const IndexedPath& path, const PlaneRect& r, std::vector<double>& out) {
    out.clear();
    const auto& ring = path.xy;
    if (ring.size() < 8 || path.runs.empty()) return -1;
    const std::size_t n = path.points() - 1; // points, the closing one not counted again
    const auto inside = [&](std::size_t i) { return ring[2 * i] >= r.x0 && ring[2 * i] <= r.x1 && ring[2 * i + 1] >= r.y0 && ring[2 * i + 1] <= r.y1; };
    const auto on_boundary = [&](std::size_t i) {
        const double x = ring[2 * i], y = ring[2 * i + 1];
        return ((x == r.x0 || x == r.x1) && y >= r.y0 && y <= r.y1) || ((y == r.y0 || y == r.y1) && x >= r.x0 && x <= r.x1);
    };
    const bool whole_in = path.box.x0 > r.x0 && path.box.x1 < r.x1 && path.box.y0 > r.y0 && path.box.y1 < r.y1;
    if (whole_in) {
        out = ring;
        return 0;
    }
    // The segments that cross: entering at (nx, ny) on segment `enter`, leaving at (ex, ey) on `leave`.
    int crossings = 0;
    std::size_t enter = 0, leave = 0;
    double nx = 0, ny = 0, ex = 0, ey = 0;
    bool any_in = false, failed = false;
    for (std::size_t k = 0; k < path.runs.size() && !failed; ++k) {
        const auto& b = path.runs[k];
        // A run wholly beyond the rectangle (no point on its edges) adds no crossing, nor one strictly inside it.
        if (b.x1 < r.x0 || b.x0 > r.x1 || b.y1 < r.y0 || b.y0 > r.y1) continue;
        if (b.x0 > r.x0 && b.x1 < r.x1 && b.y0 > r.y0 && b.y1 < r.y1) {
            any_in = true;
            continue;
        }
        const std::size_t end = std::min(n, (k + 1) * IndexedPath::run);
        for (std::size_t i = k * IndexedPath::run; i < end; ++i) {
            if (on_boundary(i) || on_boundary(i + 1)) {
                failed = true;
                break;
            }
            const std::size_t j = i + 1; // the segment i -> j (j = n is the closing point, the first again)
            const bool a_in = inside(i), b_in = inside(j);
            any_in = any_in || a_in;
            const double ax = ring[2 * i], ay = ring[2 * i + 1], bx = ring[2 * j], by = ring[2 * j + 1];
            if (a_in && b_in) continue;
            if (a_in) { // leaving: the point beyond moved towards the one inside
                ex = bx, ey = by, leave = i;
                clip_to_edges(ex, ey, ax, ay, r);
                ++crossings;
            } else if (b_in) { // entering
                nx = ax, ny = ay, enter = i;
                clip_to_edges(nx, ny, bx, by, r);
                ++crossings;
            } else {
                double t0, t1;
                if (!clip_segment(ax, ay, bx, by, r, t0, t1)) continue;
                if (!(t0 < t1)) failed = true; // a touch
                // In and out again on one segment: GEOS moves its start in, then its end towards that.
                nx = ax, ny = ay;
                clip_to_edges(nx, ny, bx, by, r);
                ex = bx, ey = by;
                clip_to_edges(ex, ey, nx, ny, r);
                if (nx == ex && ny == ey) failed = true;
                enter = leave = i;
                crossings += 2;
            }
            if (crossings > 2 || failed) {
                failed = true;
                break;
            }
        }
    }
    if (failed || crossings == 1) return -1; // (one crossing cannot be, for a closed ring: numbers at their limits)
    if (crossings == 0) {
        if (any_in) out = ring;
        else if (in_ring(path, r.x0 + (r.x1 - r.x0) / 2, r.y0 + (r.y1 - r.y0) / 2)) out = {r.x0, r.y0, r.x1, r.y0, r.x1, r.y1, r.x0, r.y1, r.x0, r.y0};
        return 0;
    }
    // The part inside: in at (nx, ny), the ring's points from the entering segment's end to
    // the leaving segment's start, out at (ex, ey); then along the boundary back to the start.
    out.push_back(nx);
    out.push_back(ny);
    if (enter != leave) // else one segment went in and out: no point of the ring is inside
        for (std::size_t i = (enter + 1) % n;; i = (i + 1) % n) {
            out.push_back(ring[2 * i]);
            out.push_back(ring[2 * i + 1]);
            if (i == leave) break;
        }
    out.push_back(ex);
    out.push_back(ey);
    const double corners[4][2] = {{r.x0, r.y0}, {r.x1, r.y0}, {r.x1, r.y1}, {r.x0, r.y1}};
    const double w = r.x1 - r.x0, h = r.y1 - r.y0, perimeter = 2 * (w + h);
    const double at[4] = {0, w, w + h, 2 * w + h};
    const double from = along_boundary(r, ex, ey), to = along_boundary(r, nx, ny);
    const bool ccw = path.ccw; // the inside on the left: round the boundary the same way
    // Counter-clockwise from `from` to `to` (the whole way round when `to` is just behind), or clockwise.
    double span = ccw ? to - from : from - to;
    if (span <= 0) span += perimeter;
    std::size_t first = 0; // the corner met first going that way
    double best = perimeter + 1;
    for (std::size_t c = 0; c < 4; ++c) {
        double d = ccw ? at[c] - from : from - at[c];
        if (d <= 0) d += perimeter;
        if (d < best) best = d, first = c;
    }
    for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t c = ccw ? (first + k) % 4 : (first + 4 - k) % 4;
        double d = ccw ? at[c] - from : from - at[c];
        if (d <= 0) d += perimeter;
        if (d >= span) break;
        out.push_back(corners[c][0]);
        out.push_back(corners[c][1]);
    }
    out.push_back(nx); // closed
    out.push_back(ny);
    return 2;
}

} // namespace skyscript::pipeline
