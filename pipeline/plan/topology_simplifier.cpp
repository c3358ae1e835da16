#include "pipeline/plan/topology_simplifier.hpp"

#include "pipeline/plan/geos_arithmetic.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

namespace skyscript::pipeline {

namespace {

constexpr std::size_t run_length = 16; // segments a run of the input index
constexpr std::size_t minimum_ring = 4; // points: TaggedLineString's minimum size for a closed line
using geos_arithmetic::cannot_tell;
using geos_arithmetic::orientation;
using geos_arithmetic::point_to_segment;

} // namespace

void douglas_peucker(const double* xy, std::size_t n, double tolerance, std::vector<char>& keep) {
    keep.assign(n, 1);
    if (n == 0) return;
    // DouglasPeuckerLineSimplifier::simplifySection's recursion as a stack: its sections are
    // disjoint, so the order they are taken in changes nothing.
    std::vector<std::pair<std::size_t, std::size_t>> sections{{0, n - 1}};
    while (!sections.empty()) {
        const auto [i, j] = sections.back();
        sections.pop_back();
        if (i + 1 == j) continue;
        double max_distance = -1.0;
        std::size_t max_index = i;
        for (std::size_t k = i + 1; k < j; k++) {
            const double distance = point_to_segment(xy[2 * k], xy[2 * k + 1], xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1]);
            if (distance > max_distance) {
                max_distance = distance;
                max_index = k;
            }
        }
        if (max_distance <= tolerance) {
            for (std::size_t k = i + 1; k < j; k++) keep[k] = 0;
        } else {
            sections.emplace_back(max_index, j);
            sections.emplace_back(i, max_index);
        }
    }
}

bool TopologySimplifier::read_ring(const GEOSGeometry* ring) {
    const auto* seq = ring ? GEOSGeom_getCoordSeq_r(ctx_, ring) : nullptr;
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(ctx_, seq, &n) || n < minimum_ring) return false;
    const auto at = pt_.size();
    pt_.resize(at + 2 * std::size_t{n});
    if (!GEOSCoordSeq_copyToBuffer_r(ctx_, seq, pt_.data() + at, 0, 0)) return false;
    return read_points(at);
}

bool TopologySimplifier::read_points(std::size_t at) {
    for (auto k = at; k < pt_.size(); ++k)
        if (!std::isfinite(pt_[k])) return false; // GEOS throws on these
    ring_start_.push_back(at / 2);
    return true;
}

bool TopologySimplifier::read(const GEOSGeometry* g) {
    const int type = GEOSGeomTypeId_r(ctx_, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(ctx_, g); ++i)
            if (!read(GEOSGetGeometryN_r(ctx_, g, i))) return false;
        return true;
    }
    if (type == GEOS_POINT || type == GEOS_MULTIPOINT) return true; // not in GEOS's indexes, nor written for an area
    if (type != GEOS_POLYGON || GEOSisEmpty_r(ctx_, g) != 0) return false; // lines take part in GEOS's checks: let it
    if (!read_ring(GEOSGetExteriorRing_r(ctx_, g))) return false;
    for (int i = 0; i < GEOSGetNumInteriorRings_r(ctx_, g); ++i)
        if (!read_ring(GEOSGetInteriorRingN_r(ctx_, g, i))) return false;
    polygon_ends_.push_back(ring_start_.size());
    return true;
}

bool TopologySimplifier::matches_runtime_geos() {
    static const bool same = [] {
        const std::string_view v = GEOSversion(); // "3.11.1-CAPI-1.17.1"
        return v == "3.11.1" || v.starts_with("3.11.1-");
    }();
    return same;
}

void TopologySimplifier::reset() {
    pt_.clear();
    ring_start_.clear();
    polygon_ends_.clear();
    kept_.clear();
    kept_ends_.clear();
    chords_.clear();
    chord_box_.clear();
    chord_block_box_.clear();
}

bool TopologySimplifier::simplify(const GEOSGeometry* g, double tolerance) {
    if (!matches_runtime_geos()) return false;
    reset();
    if (!g || !read(g) || polygon_ends_.empty()) return false;
    return simplify_read(tolerance);
}

bool TopologySimplifier::simplify(const PlanePolygons& polygons, double tolerance) {
    if (!matches_runtime_geos()) return false;
    reset();
    for (std::size_t p = 0; p < polygons.polygon_ends.size(); ++p) {
        if (polygons.polygon_begin(p) == polygons.polygon_ends[p] || polygons.ring_points(polygons.polygon_begin(p)) == 0) return false; // empty: as read()
        for (std::size_t r = polygons.polygon_begin(p); r < polygons.polygon_ends[p]; ++r) {
            if (polygons.ring_points(r) < minimum_ring) return false;
            const auto at = pt_.size();
            pt_.insert(pt_.end(), polygons.ring(r), polygons.ring(r) + 2 * polygons.ring_points(r));
            if (!read_points(at)) return false;
        }
        polygon_ends_.push_back(ring_start_.size());
    }
    if (polygon_ends_.empty()) return false;
    return simplify_read(tolerance);
}

bool TopologySimplifier::simplify_read(double tolerance) {
    const std::size_t rings = ring_start_.size();
    ring_start_.push_back(pt_.size() / 2);
    // Every segment in the input index; a ring's last point starts none.
    in_input_.assign(pt_.size() / 2, 1);
    run_box_.clear();
    run_ring_start_.clear();
    for (std::size_t r = 0; r < rings; ++r) {
        in_input_[ring_start_[r + 1] - 1] = 0;
        run_ring_start_.push_back(run_box_.size());
        for (std::size_t k = ring_start_[r]; k + 1 < ring_start_[r + 1]; k += run_length) {
            run_box_.push_back(box_of_points(pt_.data(), k, std::min(k + run_length, ring_start_[r + 1] - 1)));
        }
    }
    run_ring_start_.push_back(run_box_.size());
    for (std::size_t r = 0; r < rings; ++r)
        if (!simplify_ring(r, tolerance)) return false;
    return true;
}

bool TopologySimplifier::simplify_ring(std::size_t ring, double tolerance) {
    const std::size_t first = ring_start_[ring], last = ring_start_[ring + 1] - 1;
    const auto keep = [&](std::size_t k) {
        kept_.push_back(pt_[2 * k]);
        kept_.push_back(pt_[2 * k + 1]);
    };
    const std::size_t ring_kept_from = kept_.size() / 2;
    keep(first);
    std::size_t result_segments = 0;
    stack_.clear();
    stack_.push_back({first, last, 0});
    while (!stack_.empty()) {
        const auto [i, j, parent_depth] = stack_.back();
        stack_.pop_back();
        const std::size_t depth = parent_depth + 1;
        if (i + 1 == j) { // a single segment: kept (and left in the input index)
            keep(j);
            ++result_segments;
            continue;
        }
        bool flatten = true;
        const std::size_t result_size = result_segments == 0 ? 0 : result_segments + 1;
        if (result_size < minimum_ring && depth + 1 < minimum_ring) flatten = false;
        const double ax = pt_[2 * i], ay = pt_[2 * i + 1], bx = pt_[2 * j], by = pt_[2 * j + 1];
        double furthest = -1.0;
        std::size_t at = i;
        for (std::size_t k = i + 1; k < j; ++k) {
            const double d = point_to_segment(pt_[2 * k], pt_[2 * k + 1], ax, ay, bx, by);
            if (d > furthest) furthest = d, at = k;
        }
        if (at == i) return false; // every distance NaN (coordinates beyond 1e154): GEOS would recurse without end
        if (furthest > tolerance) flatten = false;
        if (flatten) {
            const auto bad = bad_intersection(ring, i, j);
            if (bad == Answer::unknown) return false;
            if (bad == Answer::yes) flatten = false;
        }
        if (flatten) {
            std::fill(in_input_.begin() + static_cast<std::ptrdiff_t>(i), in_input_.begin() + static_cast<std::ptrdiff_t>(j), 0);
            chords_.emplace_back(i, j);
            const PlaneRect box{std::min(ax, bx), std::min(ay, by), std::max(ax, bx), std::max(ay, by)};
            chord_box_.push_back(box);
            if (chords_.size() % run_length == 1) chord_block_box_.push_back(box); // a new block of chords
            chord_block_box_.back() = united(chord_block_box_.back(), box);
            keep(j);
            ++result_segments;
            continue;
        }
        stack_.push_back({at, j, depth});
        stack_.push_back({i, at, depth});
    }
    if (kept_.size() / 2 - ring_kept_from < minimum_ring) return false; // GEOS makes a line of it: let it
    kept_ends_.push_back(kept_.size() / 2);
    return true;
}

TopologySimplifier::Answer TopologySimplifier::bad_intersection(std::size_t ring, std::size_t a, std::size_t b) {
    const PlaneRect c{std::min(pt_[2 * a], pt_[2 * b]), std::min(pt_[2 * a + 1], pt_[2 * b + 1]), std::max(pt_[2 * a], pt_[2 * b]),
                      std::max(pt_[2 * a + 1], pt_[2 * b + 1])};
    // Any segment GEOS would find meeting the chord inside decides it, whatever the order it
    // looks in; one whose side GEOS's filter cannot tell leaves it open unless another decides.
    bool unsure = false;
    for (std::size_t block = 0; block < chord_block_box_.size(); ++block) {
        if (!meet(chord_block_box_[block], c)) continue;
        for (std::size_t k = block * run_length; k < std::min(chords_.size(), (block + 1) * run_length); ++k) {
            if (!meet(chord_box_[k], c)) continue;
            const auto r = interior_intersection(chords_[k].first, chords_[k].second, a, b);
            if (r == Answer::yes) return Answer::yes;
            unsure |= r == Answer::unknown;
        }
    }
    const std::size_t rings = ring_start_.size() - 1;
    for (std::size_t r = 0; r < rings; ++r)
        for (std::size_t run = run_ring_start_[r]; run < run_ring_start_[r + 1]; ++run) {
            if (!meet(run_box_[run], c)) continue;
            const std::size_t from = ring_start_[r] + (run - run_ring_start_[r]) * run_length;
            const std::size_t to = std::min(from + run_length, ring_start_[r + 1] - 1);
            for (std::size_t k = from; k < to; ++k) {
                if (!in_input_[k] || (r == ring && k >= a && k < b)) continue; // flattened, or the section's own
                const auto ans = interior_intersection(k, k + 1, a, b);
                if (ans == Answer::yes) return Answer::yes;
                unsure |= ans == Answer::unknown;
            }
        }
    return unsure ? Answer::unknown : Answer::no;
}

// LineIntersector::computeIntersection(p1, p2, q1, q2) then isInteriorIntersection(): do the
// segments meet at a point that is not an end point of both?
TopologySimplifier::Answer TopologySimplifier::interior_intersection(std::size_t p1, std::size_t p2, std::size_t q1, std::size_t q2) const {
    const double* P1 = &pt_[2 * p1];
    const double* P2 = &pt_[2 * p2];
    const double* Q1 = &pt_[2 * q1];
    const double* Q2 = &pt_[2 * q2];
    const auto same = [](const double* a, const double* b) { return a[0] == b[0] && a[1] == b[1]; };
    // Envelope::intersects(p1, p2, q1, q2)
    if (std::min(P1[0], P2[0]) > std::max(Q1[0], Q2[0]) || std::max(P1[0], P2[0]) < std::min(Q1[0], Q2[0])) return Answer::no;
    if (std::min(P1[1], P2[1]) > std::max(Q1[1], Q2[1]) || std::max(P1[1], P2[1]) < std::min(Q1[1], Q2[1])) return Answer::no;
    const int pq1 = orientation(P1[0], P1[1], P2[0], P2[1], Q1[0], Q1[1]);
    const int pq2 = orientation(P1[0], P1[1], P2[0], P2[1], Q2[0], Q2[1]);
    if (pq1 == cannot_tell || pq2 == cannot_tell) return Answer::unknown;
    if ((pq1 > 0 && pq2 > 0) || (pq1 < 0 && pq2 < 0)) return Answer::no;
    const int qp1 = orientation(Q1[0], Q1[1], Q2[0], Q2[1], P1[0], P1[1]);
    const int qp2 = orientation(Q1[0], Q1[1], Q2[0], Q2[1], P2[0], P2[1]);
    if (qp1 == cannot_tell || qp2 == cannot_tell) return Answer::unknown;
    if ((qp1 > 0 && qp2 > 0) || (qp1 < 0 && qp2 < 0)) return Answer::no;
    const double* found[2] = {nullptr, nullptr};
    int count = 0;
    if (pq1 == 0 && pq2 == 0 && qp1 == 0 && qp2 == 0) { // collinear: computeCollinearIntersection
        // Envelope::intersects(a, b, q): q in the box of a and b.
        const auto in = [](const double* a, const double* b, const double* q) {
            return q[0] >= std::min(a[0], b[0]) && q[0] <= std::max(a[0], b[0]) && q[1] >= std::min(a[1], b[1]) && q[1] <= std::max(a[1], b[1]);
        };
        const bool q1in = in(P1, P2, Q1), q2in = in(P1, P2, Q2), p1in = in(Q1, Q2, P1), p2in = in(Q1, Q2, P2);
        const auto pair = [&](const double* a, const double* b, bool point) {
            found[0] = a, found[1] = b;
            count = point ? 1 : 2;
        };
        if (q1in && q2in) pair(Q1, Q2, false);
        else if (p1in && p2in) pair(P1, P2, false);
        else if (q1in && p1in) pair(Q1, P1, same(Q1, P1) && !q2in && !p2in);
        else if (q1in && p2in) pair(Q1, P2, same(Q1, P2) && !q2in && !p1in);
        else if (q2in && p1in) pair(Q2, P1, same(Q2, P1) && !q1in && !p2in);
        else if (q2in && p2in) pair(Q2, P2, same(Q2, P2) && !q1in && !p1in);
        else return Answer::no;
    } else if (pq1 == 0 || pq2 == 0 || qp1 == 0 || qp2 == 0) { // an end point of one on the other
        count = 1;
        if (same(P1, Q1) || same(P1, Q2)) found[0] = P1;
        else if (same(P2, Q1) || same(P2, Q2)) found[0] = P2;
        else if (pq1 == 0) found[0] = Q1;
        else if (pq2 == 0) found[0] = Q2;
        else if (qp1 == 0) found[0] = P1;
        else found[0] = P2;
    } else {
        return Answer::yes; // proper: its point is an end point of neither (no end points are shared, or a side would be 0)
    }
    for (int k = 0; k < count; ++k) {
        if (!same(found[k], P1) && !same(found[k], P2)) return Answer::yes;
        if (!same(found[k], Q1) && !same(found[k], Q2)) return Answer::yes;
    }
    return Answer::no;
}

} // namespace skyscript::pipeline
