#include "pipeline/plan/polygon_clip.hpp"

#include "pipeline/plan/geos_arithmetic.hpp"

#include <cmath>
#include <cstdlib>
#include <memory_resource>
#include <optional>
#include <utility>

namespace skyscript::pipeline {

namespace {

// The clip's lines and rings live in an arena emptied at each clip_polygons call: made, moved
// and dropped by the hundred per polygon crossing a tile, they were 1.5 M of the plan's 3.7 M
// allocations (heaptrack, --limit 20000). Only where things live changes, not one number.
using Line = std::pmr::vector<double>; // x y x y ...
using Lines = std::pmr::vector<Line>;  // RectangleIntersectionBuilder's list of lines, in order

struct Scratch {
    alignas(std::max_align_t) unsigned char first[64 * 1024];       // a clip's usual needs, with no allocation
    std::pmr::monotonic_buffer_resource arena{first, sizeof first}; // then blocks from new, all freed at the next clip
    std::vector<double> parts;                                      // a ring's cut_line, reused
    std::vector<std::size_t> ends;
};
Scratch& scratch() {
    static thread_local Scratch s;
    return s;
}

// Rectangle::nextEdge.
unsigned next_edge(unsigned pos) {
    switch (pos) {
    case bottom_pos | left_pos:
    case left_pos: return top_pos;
    case top_pos | left_pos:
    case top_pos: return right_pos;
    case top_pos | right_pos:
    case right_pos: return bottom_pos;
    case bottom_pos | right_pos:
    case bottom_pos: return left_pos;
    default: return pos;
    }
}

bool reached(const PlaneRect& r, unsigned pos, unsigned endpos, double x1, double y1, double x2, double y2) {
    return (pos & endpos) != 0 && ((x1 == r.x0 && y2 >= y1) || (y1 == r.y1 && x2 >= x1) || (x1 == r.x1 && y2 <= y1) || (y1 == r.y0 && x2 <= x1));
}

// RectangleIntersectionBuilder's distance(): along the boundary, clockwise, from (x1, y1) to
// (x2, y2); nullopt where GEOS throws (a point off the boundary).
std::optional<double> boundary_distance(const PlaneRect& r, double x1, double y1, double x2, double y2) {
    double dist = 0;
    unsigned pos = rect_position(r, x1, y1);
    const unsigned endpos = rect_position(r, x2, y2);
    if (pos & outside_pos || endpos & outside_pos || pos & inside_pos || endpos & inside_pos) return std::nullopt;
    for (int guard = 0; guard < 8; ++guard) {
        if (reached(r, pos, endpos, x1, y1, x2, y2)) return dist + (std::fabs(x2 - x1) + std::fabs(y2 - y1));
        pos = next_edge(pos);
        if (pos & left_pos) {
            dist += x1 - r.x0;
            x1 = r.x0;
        } else if (pos & top_pos) {
            dist += r.y1 - y1;
            y1 = r.y1;
        } else if (pos & right_pos) {
            dist += r.x1 - x1;
            x1 = r.x1;
        } else {
            dist += y1 - r.y0;
            y1 = r.y0;
        }
    }
    return std::nullopt;
}

// close_boundary: the corners from (x1, y1) round to (x2, y2), then that point.
bool close_boundary(const PlaneRect& r, Line& ring, double x1, double y1, double x2, double y2) {
    const unsigned endpos = rect_position(r, x2, y2);
    unsigned pos = rect_position(r, x1, y1);
    for (int guard = 0; guard < 8; ++guard) {
        if (reached(r, pos, endpos, x1, y1, x2, y2)) {
            if (x1 != x2 || y1 != y2) ring.push_back(x2), ring.push_back(y2);
            return true;
        }
        pos = next_edge(pos);
        if (pos & left_pos) x1 = r.x0;
        else if (pos & top_pos) y1 = r.y1;
        else if (pos & right_pos) x1 = r.x1;
        else y1 = r.y0;
        ring.push_back(x1), ring.push_back(y1);
    }
    return false;
}

void reverse_points(Line& v, std::size_t start, std::size_t end) {
    while (start < end) {
        std::swap(v[2 * start], v[2 * end]);
        std::swap(v[2 * start + 1], v[2 * end + 1]);
        ++start;
        --end;
    }
}

// normalize_ring: rotated to start at its least point (by x, then y).
void normalize_ring(Line& ring) {
    const std::size_t n = ring.size() / 2;
    if (n == 0) return;
    std::size_t best = 0;
    for (std::size_t pos = 0; pos < n; ++pos) {
        if (ring[2 * pos] < ring[2 * best]) best = pos;
        else if (ring[2 * pos] == ring[2 * best] && ring[2 * pos + 1] < ring[2 * best + 1]) best = pos;
    }
    if (best == 0) return;
    reverse_points(ring, 0, best - 1);
    reverse_points(ring, best, n - 2);
    reverse_points(ring, 0, n - 2);
    ring[2 * (n - 1)] = ring[0];
    ring[2 * (n - 1) + 1] = ring[1];
}

void reverse_lines(Lines& lines) {
    Lines reversed(lines.get_allocator());
    reversed.reserve(lines.size());
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        Line l(lines.get_allocator());
        l.reserve(it->size());
        for (std::size_t i = it->size() / 2; i-- > 0;) l.push_back((*it)[2 * i]), l.push_back((*it)[2 * i + 1]);
        reversed.push_back(std::move(l));
    }
    lines = std::move(reversed);
}

// reconnect(): the last line joined to the first where the ring's start cut it in two.
void reconnect(Lines& lines) {
    if (lines.size() < 2) return;
    const Line& first = lines.front();
    const Line& last = lines.back();
    if (first.empty() || last.empty()) return;
    if (!(first[0] == last[last.size() - 2] && first[1] == last[last.size() - 1])) return;
    Line joined(lines.get_allocator());
    auto add = [&](double x, double y) {
        if (!joined.empty() && joined[joined.size() - 2] == x && joined.back() == y) return; // repeated points removed, or not added
        joined.push_back(x), joined.push_back(y);
    };
    for (std::size_t i = 0; i < last.size(); i += 2) add(last[i], last[i + 1]);
    for (std::size_t i = 0; i < first.size(); i += 2) add(first[i], first[i + 1]);
    lines.pop_back();
    lines.front() = std::move(joined);
}

void append_parts(const std::vector<double>& parts, const std::vector<std::size_t>& ends, Lines& lines) {
    for (std::size_t k = 0, start = 0; k < ends.size(); start = ends[k++])
        lines.emplace_back(parts.begin() + static_cast<std::ptrdiff_t>(start), parts.begin() + static_cast<std::ptrdiff_t>(ends[k]));
}

// One polygon: clip_polygon_to_polygons, then reconnectPolygons and release into `out`.
bool clip_polygon(const PolygonsView& in, std::size_t p, const PlaneRect& r, PlanePolygons& out) {
    const std::size_t first_ring = p ? in.polygon_ends[p - 1] : 0, end_ring = in.polygon_ends[p];
    if (first_ring == end_ring || in.rings[first_ring].n == 0) return true; // empty: nothing
    const auto& shell_ring = in.rings[first_ring];
    const double* shell = shell_ring.xy;
    const std::size_t shell_n = shell_ring.n;
    auto& s = scratch();
    auto& parts = s.parts;
    auto& ends = s.ends;
    std::pmr::memory_resource* arena = &s.arena;
    parts.clear(), ends.clear();
    if (cut_line(shell, shell_n, r, parts, ends, shell_ring.runs)) { // all of it in: the polygon itself
        for (std::size_t k = first_ring; k < end_ring; ++k) out.add_ring(in.rings[k].xy, in.rings[k].xy + 2 * in.rings[k].n);
        out.end_polygon();
        return true;
    }
    Lines lines(arena), whole_holes(arena);
    append_parts(parts, ends, lines);
    const double cx = r.x0 + (r.x1 - r.x0) / 2, cy = r.y0 + (r.y1 - r.y0) / 2;
    if (lines.empty()) {
        const auto at = geos_arithmetic::locate_in_ring(cx, cy, shell, shell_n, shell_ring.runs);
        if (!at) return false;
        if (*at != geos_arithmetic::Location::interior) return true;
    } else {
        const auto ccw = geos_arithmetic::is_ccw(shell, shell_n);
        if (!ccw) return false;
        if (*ccw) reverse_lines(lines);
    }
    reconnect(lines);
    for (std::size_t h = first_ring + 1; h < end_ring; ++h) {
        const double* hole = in.rings[h].xy;
        const std::size_t hole_n = in.rings[h].n;
        parts.clear(), ends.clear();
        if (cut_line(hole, hole_n, r, parts, ends, in.rings[h].runs)) {
            whole_holes.emplace_back(hole, hole + 2 * hole_n);
        } else if (!ends.empty()) {
            Lines hole_lines(arena);
            append_parts(parts, ends, hole_lines);
            const auto ccw = geos_arithmetic::is_ccw(hole, hole_n);
            if (!ccw) return false;
            if (!*ccw) reverse_lines(hole_lines);
            reconnect(hole_lines);
            for (auto& l : hole_lines) lines.push_back(std::move(l));
        } else {
            const auto at = geos_arithmetic::locate_in_ring(cx, cy, hole, hole_n, in.rings[h].runs);
            if (!at) return false;
            if (*at != geos_arithmetic::Location::exterior) return true; // the rectangle inside the hole: nothing
        }
    }
    // reconnectPolygons.
    std::pmr::vector<std::pair<Line, Lines>> exterior(arena);
    if (lines.empty()) {
        exterior.emplace_back(Line({r.x0, r.y0, r.x0, r.y1, r.x1, r.y1, r.x1, r.y0, r.x0, r.y0}, arena), Lines(arena));
    } else {
        std::optional<Line> ring;
        std::size_t next = 0; // lines taken so far are erased: kept as a list by index
        std::pmr::vector<char> taken(lines.size(), 0, arena);
        std::size_t left = lines.size();
        while (left > 0 || ring) {
            if (!ring) {
                while (taken[next]) ++next;
                ring = std::move(lines[next]);
                taken[next] = 1;
                --left;
            }
            Line& rg = *ring;
            const std::size_t nr = rg.size() / 2;
            const auto own = boundary_distance(r, rg[2 * nr - 2], rg[2 * nr - 1], rg[0], rg[1]);
            if (!own) return false;
            double best_distance = -1;
            std::size_t best = 0;
            for (std::size_t i = 0; i < lines.size(); ++i) {
                if (taken[i]) continue;
                const auto d = boundary_distance(r, rg[2 * nr - 2], rg[2 * nr - 1], lines[i][0], lines[i][1]);
                if (!d) return false;
                if (best_distance < 0 || *d < best_distance) best_distance = *d, best = i;
            }
            if (best_distance < 0 || *own < best_distance) {
                if (!close_boundary(r, rg, rg[2 * nr - 2], rg[2 * nr - 1], rg[0], rg[1])) return false; // close_ring
                normalize_ring(rg);
                if (rg.size() / 2 < 4) return false; // GEOS throws
                exterior.push_back({std::move(rg), {}});
                ring.reset();
            } else {
                const Line& line = lines[best];
                if (!close_boundary(r, rg, rg[2 * nr - 2], rg[2 * nr - 1], line[0], line[1])) return false;
                rg.insert(rg.end(), line.begin() + 2, line.end());
                taken[best] = 1;
                --left;
            }
        }
    }
    for (auto& hole : whole_holes) {
        if (exterior.size() == 1) {
            exterior.front().second.push_back(std::move(hole));
            continue;
        }
        for (auto& [shell_ring, holes] : exterior) {
            const auto at = geos_arithmetic::locate_in_ring(hole[0], hole[1], shell_ring.data(), shell_ring.size() / 2);
            if (!at) return false;
            if (*at != geos_arithmetic::Location::exterior) {
                holes.push_back(std::move(hole));
                break;
            }
        }
    }
    for (const auto& [shell_ring, holes] : exterior) {
        out.add_ring(shell_ring.data(), shell_ring.data() + shell_ring.size());
        for (const auto& h : holes) out.add_ring(h.data(), h.data() + h.size());
        out.end_polygon();
    }
    return true;
}

double ring_area_geos(const double* xy, std::size_t n) {
    if (n < 3) return 0.0;
    double p0y = 0, p1x = xy[0], p1y = xy[1], p2x = xy[2], p2y = xy[3];
    const double x0 = p1x;
    p2x -= x0;
    double sum = 0.0;
    for (std::size_t i = 1; i < n - 1; i++) {
        p0y = p1y;
        p1x = p2x;
        p1y = p2y;
        p2x = xy[2 * (i + 1)];
        p2y = xy[2 * (i + 1) + 1];
        p2x -= x0;
        sum += p1x * (p0y - p2y);
    }
    return std::abs(sum / 2.0);
}

} // namespace

bool clip_polygons(const PolygonsView& in, const PlaneRect& r, PlanePolygons& out) {
    scratch().arena.release(); // the last clip's lines: none is alive
    out.clear();
    if (!(r.x0 < r.x1 && r.y0 < r.y1)) return false; // GEOS's Rectangle throws
    for (std::size_t p = 0; p < in.polygon_ends.size(); ++p)
        if (!clip_polygon(in, p, r, out)) return false;
    return true;
}

double polygons_area(const PlanePolygons& p) {
    double total = 0.0;
    for (std::size_t k = 0; k < p.polygon_ends.size(); ++k) {
        double area = 0.0;
        const std::size_t first = p.polygon_begin(k);
        for (std::size_t r = first; r < p.polygon_ends[k]; ++r) {
            const double a = ring_area_geos(p.ring(r), p.ring_points(r));
            if (r == first) area += a;
            else area -= a;
        }
        total += area;
    }
    return total;
}

} // namespace skyscript::pipeline
