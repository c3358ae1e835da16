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

bool on_edge(unsigned pos) { return pos > outside_pos; }
bool on_same_edge(unsigned a, unsigned b) { return on_edge(a & b); }
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
        unsigned pos = rect_position(rect, x, y);
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
            pos = rect_position(rect, x, y);
            x0 = cx(i - 1), y0 = cy(i - 1);
            clip_to_edges(x0, y0, x, y, rect);
            if (pos == inside_pos) {
                add_start = true;
            } else if (pos == outside_pos) {
                clip_to_edges(x, y, x0, y0, rect);
                const unsigned prev_pos = rect_position(rect, x0, y0);
                pos = rect_position(rect, x, y);
                if (different(x0, y0, x, y) && on_edge(prev_pos) && on_edge(pos) && !on_same_edge(prev_pos, pos)) {
                    out.push_back(x0), out.push_back(y0), out.push_back(x), out.push_back(y);
                    ends.push_back(out.size());
                }
            } else {
                const unsigned newpos = rect_position(rect, x0, y0);
                if (!on_same_edge(pos, newpos)) add_start = true;
            }
        } else {
            std::size_t start_index = i;
            bool go_outside = false;
            while (!go_outside && ++i < n) {
                x = cx(i), y = cy(i);
                const unsigned prev_pos = pos;
                pos = rect_position(rect, x, y);
                if (pos == inside_pos) {
                } else if (pos == outside_pos) {
                    go_outside = true;
                    clip_to_edges(x, y, cx(i - 1), cy(i - 1), rect);
                    pos = rect_position(rect, x, y);
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

void clip_line(const double* xy, std::size_t n, const PlaneRect& r, std::vector<double>& out, std::vector<std::size_t>& ends,
               const std::vector<PlaneRect>* runs) {
    if (!cut_line(xy, n, r, out, ends, runs)) return;
    out.insert(out.end(), xy, xy + 2 * n);
    ends.push_back(out.size());
}

void IndexedPath::index() {
    runs.clear();
    const std::size_t n = points();
    if (n == 0) return;
    for (std::size_t first = 0; first == 0 || first + 1 < n; first += run) { // a lone point is a run of its own
        runs.push_back(box_of_points(xy.data(), first, std::min(n - 1, first + run)));
    }
}

} // namespace skyscript::pipeline
