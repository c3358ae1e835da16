// The plan writes a named area's simplified rings from TopologySimplifier, GEOS 3.11's
// topology-preserving simplification done on coordinates (issue 25: GEOS's own was a tenth of
// the plan). Checked against GEOSTopologyPreserveSimplify_r itself, point for point: random
// rings in pixels with corners at and around the tolerance from their chords, holes close to
// their shells (where a chord would cross a hole and GEOS refuses it), multipolygons whose
// parts nearly touch, and rings snapped to whole and half pixels (collinear runs, repeated
// points, squares cut to a tile's edges: the sides GEOS's filter must tell exactly, ties of
// furthest points). Whenever the simplifier answers, its rings are GEOS's; it gives up rarely;
// and the cases where topology changed GEOS's answer (a plain Douglas-Peucker differs) are
// many among those it answers.

#include "pipeline/plan/topology_simplifier.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using skyscript::pipeline::TopologySimplifier;

namespace {

struct Geos {
    GEOSContextHandle_t ctx = GEOS_init_r();
    ~Geos() { GEOS_finish_r(ctx); }
    GEOSGeometry* wkt(const std::string& text) {
        GEOSWKTReader* r = GEOSWKTReader_create_r(ctx);
        GEOSGeometry* g = GEOSWKTReader_read_r(ctx, r, text.c_str());
        GEOSWKTReader_destroy_r(ctx, r);
        REQUIRE_MESSAGE(g, text);
        return g;
    }
};

using Rings = std::vector<std::vector<double>>; // x y pairs a ring
using Polygons = std::vector<Rings>;

void rings_of(GEOSContextHandle_t ctx, const GEOSGeometry* g, Polygons& out, bool& other) {
    const int type = GEOSGeomTypeId_r(ctx, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(ctx, g); ++i) rings_of(ctx, GEOSGetGeometryN_r(ctx, g, i), out, other);
        return;
    }
    if (type != GEOS_POLYGON) {
        other = true;
        return;
    }
    auto ring = [&](const GEOSGeometry* r) {
        const auto* seq = GEOSGeom_getCoordSeq_r(ctx, r);
        unsigned n = 0;
        GEOSCoordSeq_getSize_r(ctx, seq, &n);
        std::vector<double> xy(2 * std::size_t{n});
        if (n) GEOSCoordSeq_copyToBuffer_r(ctx, seq, xy.data(), 0, 0);
        return xy;
    };
    Rings p{ring(GEOSGetExteriorRing_r(ctx, g))};
    for (int i = 0; i < GEOSGetNumInteriorRings_r(ctx, g); ++i) p.push_back(ring(GEOSGetInteriorRingN_r(ctx, g, i)));
    out.push_back(std::move(p));
}

Polygons ours(const TopologySimplifier& s) {
    Polygons out;
    std::size_t ring = 0, point = 0;
    for (std::size_t p = 0; p < s.polygons(); ++p) {
        Rings rs;
        for (; ring < s.polygon_ends()[p]; ++ring) {
            std::vector<double> xy;
            for (; point < s.ring_ends()[ring]; ++point) xy.insert(xy.end(), {s.xy()[2 * point], s.xy()[2 * point + 1]});
            rs.push_back(std::move(xy));
        }
        out.push_back(std::move(rs));
    }
    return out;
}

std::string text(const std::vector<std::pair<double, double>>& pts) {
    std::string s = "(";
    char buf[64];
    for (std::size_t i = 0; i <= pts.size(); ++i) {
        const auto& [x, y] = pts[i % pts.size()];
        std::snprintf(buf, sizeof buf, "%s%.17g %.17g", i ? "," : "", x, y);
        s += buf;
    }
    return s + ")";
}

// A star-shaped ring around (cx, cy): n corners at random radii, some put back near the chord
// of their neighbours (`near` px from it, either side); `snap` > 0 rounds every corner to it.
std::vector<std::pair<double, double>> star(std::mt19937& rng, double cx, double cy, double radius, int n, double near, bool clockwise, double snap) {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<std::pair<double, double>> pts;
    for (int i = 0; i < n; ++i) {
        const double a = (clockwise ? -1 : 1) * 2 * M_PI * (i + 0.3 * u(rng)) / n;
        const double r = radius * (0.6 + 0.4 * u(rng));
        pts.emplace_back(cx + r * std::cos(a), cy + r * std::sin(a));
    }
    for (int i = 1; i + 1 < n; ++i)
        if (u(rng) < 0.3) {
            const auto [ax, ay] = pts[static_cast<std::size_t>(i - 1)];
            const auto [bx, by] = pts[static_cast<std::size_t>(i + 1)];
            const double dx = bx - ax, dy = by - ay, len = std::hypot(dx, dy);
            const double t = u(rng), off = (2 * u(rng) - 1) * near;
            pts[static_cast<std::size_t>(i)] = {ax + t * dx - dy / len * off, ay + t * dy + dx / len * off};
        }
    if (snap > 0)
        for (auto& [x, y] : pts) x = std::round(x / snap) * snap, y = std::round(y / snap) * snap;
    return pts;
}

// The polygon cut to the tile [0, side]² by GEOS, as the plan cuts it (its points on the
// edges: axis-aligned runs of collinear points); null when nothing is left.
GEOSGeometry* clipped(Geos& geos, const std::string& polygon, double side) {
    GEOSGeometry* g = geos.wkt(polygon);
    GEOSGeometry* c = GEOSClipByRect_r(geos.ctx, g, 0, 0, side, side);
    GEOSGeom_destroy_r(geos.ctx, g);
    if (c && GEOSisEmpty_r(geos.ctx, c) != 0) {
        GEOSGeom_destroy_r(geos.ctx, c);
        return nullptr;
    }
    return c;
}

} // namespace

TEST_CASE("this GEOS is the one copied (else the simplifier gives up on everything)") {
    CHECK(TopologySimplifier::matches_runtime_geos());
    INFO(GEOSversion());
}

TEST_CASE("simple cases: a rectangle kept, a corner within the tolerance dropped, a chord that would cross a hole refused") {
    Geos geos;
    TopologySimplifier s(geos.ctx);
    GEOSGeometry* box = geos.wkt("POLYGON((10 10, 60 10, 60 40, 10 40, 10 10))");
    REQUIRE(s.simplify(box, 0.5));
    CHECK(ours(s) == Polygons{{{10, 10, 60, 10, 60, 40, 10, 40, 10, 10}}});
    GEOSGeometry* bump = geos.wkt("POLYGON((10 10, 35 10.3, 60 10, 60 40, 10 40, 10 10))");
    REQUIRE(s.simplify(bump, 0.5));
    CHECK(ours(s) == Polygons{{{10, 10, 60, 10, 60, 40, 10, 40, 10, 10}}});
    // The same bump with a hole whose corner sits between the bump and its chord: kept.
    GEOSGeometry* guarded = geos.wkt("POLYGON((10 10, 35 9.6, 60 10, 60 40, 10 40, 10 10),(34.5 9.9, 35 20, 35.5 9.9, 34.5 9.9))");
    REQUIRE(s.simplify(guarded, 0.5));
    CHECK(ours(s)[0][0].size() == 12);
    GEOSGeometry* line = geos.wkt("GEOMETRYCOLLECTION(POLYGON((10 10, 60 10, 60 40, 10 40, 10 10)), LINESTRING(0 0, 5 0.1, 10 0))");
    CHECK_FALSE(s.simplify(line, 0.5)); // lines take part in GEOS's checks: left to GEOS
    for (auto* g : {box, bump, guarded, line}) {
        GEOSGeometry* t = GEOSTopologyPreserveSimplify_r(geos.ctx, g, 0.5);
        if (g != line && s.simplify(g, 0.5)) {
            Polygons theirs;
            bool other = false;
            rings_of(geos.ctx, t, theirs, other);
            CHECK(ours(s) == theirs);
        }
        GEOSGeom_destroy_r(geos.ctx, t);
        GEOSGeom_destroy_r(geos.ctx, g);
    }
}

namespace {

// GEOS's answer and ours for `wkt`, both present and equal; the number of points of ring `ring`.
std::size_t same_as_geos(Geos& geos, TopologySimplifier& s, const std::string& wkt, std::size_t polygon, std::size_t ring) {
    GEOSGeometry* g = geos.wkt(wkt);
    REQUIRE(GEOSisValid_r(geos.ctx, g) == 1);
    GEOSGeometry* t = GEOSTopologyPreserveSimplify_r(geos.ctx, g, 0.5);
    REQUIRE(t);
    Polygons theirs;
    bool other = false;
    rings_of(geos.ctx, t, theirs, other);
    REQUIRE(s.simplify(g, 0.5));
    const auto mine = ours(s);
    CHECK(mine == theirs);
    GEOSGeom_destroy_r(geos.ctx, t);
    GEOSGeom_destroy_r(geos.ctx, g);
    REQUIRE(polygon < mine.size());
    REQUIRE(ring < mine[polygon].size());
    return mine[polygon][ring].size() / 2;
}

} // namespace

TEST_CASE("a chord that would cross a chord made before is refused (GEOS's output index)") {
    // Three wiggly polygons packed closely, found by a random search against GEOS with the
    // output index left out (the chords there differ then): a chord of one would cross a chord
    // already made, where the segments it replaced are gone from the input index.
    Geos geos;
    TopologySimplifier s(geos.ctx);
    const std::string wkt = "MULTIPOLYGON(((0.06 0.06,0.26 1.03,-0.7 1.96,0.56 3.07,0.54 4.04,-0.78 4.93,0.76 6.01,0.58 6.99,-0.4 8,0.67 9.02,0.23 9.99,2.07 10.08,1.97 9.09,2.92 7.97,2.98 7.06,1.92 5.97,2.15 4.85,1.51 3.92,2.38 3.06,2.26 1.97,1.84 0.87,2.38 0.06,0.06 0.06)),((2.5 -0.01,2.63 2.61,2.24 4.86,3.16 7.42,3.08 9.87,4.66 9.9,5.08 7.53,5.82 4.95,5.13 2.63,5.7 0.11,2.5 -0.01)),((5.55 -0.14,6.63 1.24,6.17 2.43,5.74 3.85,6.58 5.06,6.15 6.36,5.41 7.36,5.9 8.7,5.74 10.08,8.29 9.91,8.54 8.67,8.3 7.46,8.06 6.22,8.42 5.14,8.16 3.79,8.21 2.56,8.11 1.38,8.53 -0.02,5.55 -0.14)))";
    std::size_t points = 0;
    for (std::size_t p = 0; p < 3; ++p) points += same_as_geos(geos, s, wkt, p, 0);
    CHECK(points == 36);
}

TEST_CASE("a forest's ring of 20,000 points with a hole: GEOS's answer, thousands of chords") {
    // The chords and the input segments are looked up by blocks of 16 with their boxes; a long
    // ring simplified into thousands of chords checks each new one against the blocks it meets.
    Geos geos;
    TopologySimplifier s(geos.ctx);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<std::pair<double, double>> shell, hole;
    for (int i = 0; i < 20000; ++i) {
        const double a = 2 * M_PI * i / 20000, r = 3000 + 40 * std::sin(7 * a) + 0.6 * u(rng);
        shell.emplace_back(5000 + r * std::cos(a), 5000 + r * std::sin(a));
    }
    for (int i = 0; i < 2000; ++i) {
        const double a = -2 * M_PI * i / 2000, r = 1000 + 0.6 * u(rng);
        hole.emplace_back(5000 + r * std::cos(a), 5000 + r * std::sin(a));
    }
    const std::string wkt = "POLYGON(" + text(shell) + "," + text(hole) + ")";
    const auto kept = same_as_geos(geos, s, wkt, 0, 0);
    CHECK(kept > 100);
    CHECK(kept < 20000);
}

TEST_CASE("a ring's first sections are not flattened below its minimum size (GEOS's worst-case rule)") {
    // Flattening 0-3 first would leave 4 points; GEOS refuses it at that depth, splits, and
    // flattens 1-3 instead: 5 points.
    Geos geos;
    TopologySimplifier s(geos.ctx);
    CHECK(same_as_geos(geos, s, "POLYGON((0 0, 10 0.2, 20 0.1, 40 0, 20 5, 0 0))", 0, 0) == 5);
}

TEST_CASE("whatever the simplifier answers is GEOS's answer, point for point (random, snapped and tile-cut rings)") {
    Geos geos;
    TopologySimplifier s(geos.ctx);
    std::mt19937 rng(20261205);
    std::uniform_real_distribution<double> u(0, 1);
    int answered = 0, gave_up = 0, topology_mattered = 0, changed = 0, invalid = 0;
    const int cases = 12000;
    for (int c = 0; c < cases; ++c) {
        const double radius = 2 + 300 * u(rng) * u(rng);
        const int n = 3 + static_cast<int>(60 * u(rng) * u(rng));
        const double near = 0.5 + (u(rng) < 0.3 ? 1e-9 : 0.45) * (2 * u(rng) - 1); // at and around the tolerance
        const double snap = c % 4 == 1 ? 1.0 : c % 4 == 2 ? 0.5 : 0;
        std::string wkt;
        GEOSGeometry* g = nullptr;
        switch (c % 6) {
        case 0: // a polygon with a hole close to its shell, and a second polygon nearly touching it
            wkt = "MULTIPOLYGON((" + text(star(rng, 500, 500, radius, n, near, false, snap)) + "," +
                  text(star(rng, 500, 500, radius * 0.55, 4 + n / 2, near, true, snap)) + "),(" +
                  text(star(rng, 500 + 1.55 * radius, 500, radius * 0.6, n, near, false, snap)) + "))";
            break;
        case 1: // cut to a tile: straight runs along its edges, squares where it covers a corner
        case 2: {
            const double side = 384;
            wkt = "POLYGON(" + text(star(rng, side * u(rng), side * u(rng), 30 + 400 * u(rng), n + 3, near, false, snap)) + ")";
            g = clipped(geos, wkt, side);
            if (!g) continue;
            wkt += " cut to the tile";
            break;
        }
        default:
            wkt = "POLYGON(" + text(star(rng, 500, 500, radius, n, near, false, snap)) + ")";
        }
        if (!g) g = geos.wkt(wkt);
        invalid += GEOSisValid_r(geos.ctx, g) != 1; // compared too: the plan cuts invalid areas as they are when GEOS can
        GEOSGeometry* t = GEOSTopologyPreserveSimplify_r(geos.ctx, g, 0.5);
        GEOSGeometry* dp = GEOSSimplify_r(geos.ctx, g, 0.5);
        REQUIRE(t);
        REQUIRE(dp);
        if (s.simplify(g, 0.5)) {
            ++answered;
            Polygons theirs;
            bool other = false;
            rings_of(geos.ctx, t, theirs, other);
            INFO(wkt);
            CHECK_FALSE(other);
            CHECK(ours(s) == theirs);
            if (GEOSEqualsExact_r(geos.ctx, t, dp, 0) != 1) ++topology_mattered;
            if (GEOSEqualsExact_r(geos.ctx, t, g, 0) != 1) ++changed;
        } else {
            ++gave_up;
        }
        for (auto* x : {g, t, dp}) GEOSGeom_destroy_r(geos.ctx, x);
    }
    MESSAGE("answered " << answered << " (changed by GEOS " << changed << ", where topology mattered " << topology_mattered << "), gave up " << gave_up
                        << "; " << invalid << " of the inputs invalid");
    CHECK(invalid > 100);
    CHECK(answered > 8000);
    CHECK(gave_up * 50 < answered); // it gives up rarely
    CHECK(changed > answered / 4);
    CHECK(topology_mattered > 100);
}

TEST_CASE("a line's Douglas-Peucker is GEOSSimplify's, point for point (random, snapped and collinear lines)") {
    Geos geos;
    std::mt19937 rng(2513);
    std::uniform_real_distribution<double> u(0, 1);
    std::size_t lines = 0, dropped = 0, kept_near = 0;
    std::vector<char> keep;
    for (int t = 0; t < 40000; ++t) {
        const int n = 2 + static_cast<int>(u(rng) * (t % 4 == 0 ? 400 : 30));
        const double snap = t % 3 == 0 ? 0.5 : t % 3 == 1 ? 0.01 : 0; // half pixels: collinear runs, ties, repeated points
        std::vector<double> xy;
        double x = u(rng) * 300, y = u(rng) * 300;
        for (int i = 0; i < n; ++i) {
            x += (u(rng) - 0.3) * (i % 7 == 0 ? 20 : 1.2), y += (u(rng) - 0.5) * 1.2;
            xy.push_back(snap > 0 ? std::round(x / snap) * snap : x);
            xy.push_back(snap > 0 ? std::round(y / snap) * snap : y);
        }
        skyscript::pipeline::douglas_peucker(xy.data(), xy.size() / 2, 0.5, keep);
        std::vector<double> ours;
        for (std::size_t i = 0; i < keep.size(); ++i)
            if (keep[i]) ours.insert(ours.end(), {xy[2 * i], xy[2 * i + 1]});
        GEOSGeometry* line = GEOSGeom_createLineString_r(geos.ctx, GEOSCoordSeq_copyFromBuffer_r(geos.ctx, xy.data(), xy.size() / 2, 0, 0));
        GEOSGeometry* simple = GEOSSimplify_r(geos.ctx, line, 0.5);
        REQUIRE(simple);
        const auto* seq = GEOSGeom_getCoordSeq_r(geos.ctx, simple);
        unsigned m = 0;
        GEOSCoordSeq_getSize_r(geos.ctx, seq, &m);
        std::vector<double> theirs(2 * m);
        GEOSCoordSeq_copyToBuffer_r(geos.ctx, seq, theirs.data(), 0, 0);
        INFO("line " << t << " of " << n << " points");
        REQUIRE(ours == theirs);
        GEOSGeom_destroy_r(geos.ctx, simple);
        GEOSGeom_destroy_r(geos.ctx, line);
        ++lines;
        dropped += ours.size() < xy.size();
        kept_near += ours.size() > 4 && ours.size() < xy.size();
    }
    MESSAGE(lines << " lines, " << dropped << " simplified, " << kept_near << " kept some inner points");
    CHECK(dropped > 30000);
    CHECK(kept_near > 10000);
}
