#include "pipeline/plan/simplify_check.hpp"

#include <cmath>

namespace skyscript::pipeline {

bool SimplifyCheck::keeps_rings(const GEOSGeometry* g, double tolerance) {
    const int type = GEOSGeomTypeId_r(ctx_, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(ctx_, g); ++i)
            if (!keeps_rings(GEOSGetGeometryN_r(ctx_, g, i), tolerance)) return false;
        return true;
    }
    if (type != GEOS_POLYGON) return true;
    if (!keeps_ring(GEOSGetExteriorRing_r(ctx_, g), tolerance)) return false;
    for (int i = 0; i < GEOSGetNumInteriorRings_r(ctx_, g); ++i)
        if (!keeps_ring(GEOSGetInteriorRingN_r(ctx_, g, i), tolerance)) return false;
    return true;
}

// GEOS 3.11's TaggedLineStringSimplifier is Douglas-Peucker on the ring (first and last
// point the same): a section is flattened only when its furthest point lies within the
// tolerance of its chord (and no intersection forbids it), else it is split there. So a ring
// stays whole when every section the recursion visits has its furthest point beyond the
// tolerance. The distance is GEOS's Distance::pointToSegment, operation for operation; a
// distance within a hair of the tolerance, or two furthest points within a hair of each other
// (GEOS takes the first), says no rather than risk a rounding GEOS does otherwise.
bool SimplifyCheck::keeps_ring(const GEOSGeometry* ring, double tolerance) {
    constexpr double hair = 1e-7; // px: far above the rounding of distances across a tile
    const auto* seq = ring ? GEOSGeom_getCoordSeq_r(ctx_, ring) : nullptr;
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(ctx_, seq, &n) || n < 4) return false;
    coords_.resize(2 * static_cast<std::size_t>(n));
    if (!GEOSCoordSeq_copyToBuffer_r(ctx_, seq, coords_.data(), 0, 0)) return false;
    const double* p = coords_.data();
    auto distance = [p](std::size_t k, std::size_t a, std::size_t b) {
        const double px = p[2 * k], py = p[2 * k + 1], ax = p[2 * a], ay = p[2 * a + 1], bx = p[2 * b], by = p[2 * b + 1];
        if (ax == bx && ay == by) return std::sqrt((ax - px) * (ax - px) + (ay - py) * (ay - py));
        const double len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
        const double r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2;
        if (r <= 0.0) return std::sqrt((ax - px) * (ax - px) + (ay - py) * (ay - py));
        if (r >= 1.0) return std::sqrt((bx - px) * (bx - px) + (by - py) * (by - py));
        const double s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2;
        return std::fabs(s) * std::sqrt(len2);
    };
    sections_.clear();
    sections_.emplace_back(0, n - 1);
    while (!sections_.empty()) {
        const auto [i, j] = sections_.back();
        sections_.pop_back();
        if (j <= i + 1) continue;
        double best = -1, runner_up = -1;
        std::size_t at = i;
        for (std::size_t k = i + 1; k < j; ++k) {
            const double d = distance(k, i, j);
            if (d > best) runner_up = best, best = d, at = k;
            else if (d > runner_up) runner_up = d;
        }
        if (!(best > tolerance + hair) || runner_up >= best - hair) return false;
        sections_.emplace_back(at, j);
        sections_.emplace_back(i, at);
    }
    return true;
}

} // namespace skyscript::pipeline
