// Tiles and the plan's vertices are projected to UTM by our copy of PROJ 9.1.1's arithmetic
// (imagery/utm_projection.hpp) since issue 25: every job must stay what PROJ made of it, so the
// copy is checked against PROJ itself, bit for bit, on random points across and far beyond
// each zone (the poles, the antimeridian, out-of-range and non-finite input, where PROJ
// reports errors), on the inverse, and on tiles' lon/lat bounds (proj_trans_bounds, with its
// pole and antimeridian rules). And tile_grid uses it here, on Debian 12's PROJ, and a plan of
// a real extract makes the same jobs with it as with PROJ alone.

#include "imagery/tile_grid.hpp"
#include "imagery/utm_projection.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <proj.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using skyscript::imagery::UtmProjection;

namespace {

bool same(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

// What tile_grid.cpp makes with PROJ: EPSG:4326 -> the zone, lon/lat order.
struct Proj {
    PJ_CONTEXT* ctx = proj_context_create();
    PJ* pj = nullptr;
    explicit Proj(int epsg) {
        proj_log_level(ctx, PJ_LOG_NONE); // the out-of-range points below are meant: no "Invalid latitude" lines
        PJ* raw = proj_create_crs_to_crs(ctx, "EPSG:4326", ("EPSG:" + std::to_string(epsg)).c_str(), nullptr);
        REQUIRE(raw);
        pj = proj_normalize_for_visualization(ctx, raw);
        proj_destroy(raw);
        REQUIRE(pj);
    }
    ~Proj() {
        proj_destroy(pj);
        proj_context_destroy(ctx);
    }
};

const int zones[] = {32601, 32617, 32631, 32632, 32645, 32660, 32701, 32733, 32760};

} // namespace

TEST_CASE("the copy is in use with Debian 12's PROJ 9.1.1, and only for UTM zones") {
    const auto v = proj_info();
    const bool copied_version = v.major == 9 && v.minor == 1 && v.patch == 1;
    CHECK(skyscript::imagery::exact_utm_copy_in_use(32632) == copied_version);
    CHECK(skyscript::imagery::exact_utm_copy_in_use(32733) == copied_version);
    CHECK_FALSE(skyscript::imagery::exact_utm_copy_in_use(32661)); // UPS north: PROJ's stere
    CHECK_FALSE(skyscript::imagery::exact_utm_copy_in_use(3857));
    CHECK_FALSE(UtmProjection::of_epsg(32600));
    CHECK_FALSE(UtmProjection::of_epsg(32761));
}

TEST_CASE("lon/lat -> UTM and back: PROJ's bits on points across and beyond each zone") {
    std::mt19937_64 rng(91);
    std::uniform_real_distribution<double> unit(0, 1);
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    std::size_t compared = 0, errors = 0;
    for (const int epsg : zones) {
        Proj proj(epsg);
        const auto utm = UtmProjection::of_epsg(epsg);
        REQUIRE(utm);
        const double meridian = (epsg % 100) * 6 - 183.0;
        std::vector<std::pair<double, double>> points = {
            {meridian, 0},       {meridian, 90},        {meridian, -90},      {meridian + 3, 90.0000000001}, {0, 90},
            {180, 0},            {-180, 0},             {180, 84},            {meridian + 179.9, 1},         {meridian, 90 + 1e-9}, {meridian, 90 + 3e-11}, {meridian, -90 - 3e-11},
            {600, 10},           {-573, 10},            {572, 10},            {meridian + 89.999, 0},        {meridian + 90, 0},
            {inf, 0},            {0, inf},              {-inf, 0},            {0, -inf},                     {nan, 0},
            {0, nan},            {HUGE_VAL, 10},        {meridian, -0.0},     {-0.0, -0.0},                  {meridian - 3, 80}};
        for (int i = 0; i < 120000; ++i) {
            const double r = unit(rng);
            double lon, lat;
            if (i % 4 == 0) lon = meridian + (unit(rng) - 0.5) * 6, lat = (unit(rng) - 0.5) * 168; // inside the zone
            else if (i % 4 == 1) lon = meridian + (unit(rng) - 0.5) * 60, lat = (unit(rng) - 0.5) * 180; // far beyond it
            else if (i % 4 == 2) lon = (unit(rng) - 0.5) * 360, lat = (unit(rng) - 0.5) * 181; // anywhere, past the poles too
            else lon = meridian + (r - 0.5) * 1e-3, lat = 47 + (unit(rng) - 0.5) * 1e-3; // a tile's worth of OSM nodes
            if (i % 4 == 3) lon = std::round(lon * 1e7) / 1e7, lat = std::round(lat * 1e7) / 1e7; // OSM's 100 nm steps
            points.emplace_back(lon, lat);
        }
        for (const auto& [lon, lat] : points) {
            const PJ_COORD p = proj_trans(proj.pj, PJ_FWD, proj_coord(lon, lat, 0, 0));
            double x, y;
            utm->forward(lon, lat, x, y);
            INFO("EPSG:" << epsg << " forward (" << lon << ", " << lat << "): PROJ " << p.xy.x << ", " << p.xy.y << ", copy " << x << ", " << y);
            REQUIRE(same(p.xy.x, x));
            REQUIRE(same(p.xy.y, y));
            ++compared;
            if (!std::isfinite(x)) {
                ++errors;
                continue;
            }
            // Back from near that point (grid coordinates that are not a projection's output).
            const double gx = x + (unit(rng) - 0.5) * 2000, gy = y + (unit(rng) - 0.5) * 2000;
            const PJ_COORD q = proj_trans(proj.pj, PJ_INV, proj_coord(gx, gy, 0, 0));
            double lon2, lat2;
            utm->inverse(gx, gy, lon2, lat2);
            INFO("EPSG:" << epsg << " inverse (" << gx << ", " << gy << ")");
            REQUIRE(same(q.xy.x, lon2));
            REQUIRE(same(q.xy.y, lat2));
        }
        // The inverse far out, past its domain (PROJ's error), and of non-finite input.
        for (const auto& [gx, gy] : std::vector<std::pair<double, double>>{
                 {-2e7, 0}, {3e7, 5e6}, {inf, 0}, {0, -inf}, {nan, 1}, {HUGE_VAL, HUGE_VAL}, {500000, -2e7}, {500000, 3e7}}) {
            const PJ_COORD q = proj_trans(proj.pj, PJ_INV, proj_coord(gx, gy, 0, 0));
            double lon2, lat2;
            utm->inverse(gx, gy, lon2, lat2);
            CHECK(same(q.xy.x, lon2));
            CHECK(same(q.xy.y, lat2));
        }
    }
    CHECK(compared > 1000000);
    CHECK(errors > 1000); // the error paths were taken too
}

TEST_CASE("a tile's lon/lat bounds: proj_trans_bounds's bits, poles and antimeridian included") {
    std::mt19937_64 rng(92);
    std::uniform_real_distribution<double> unit(0, 1);
    int pole_boxes = 0, antimeridian_boxes = 0;
    for (const int epsg : zones) {
        Proj proj(epsg);
        const auto utm = UtmProjection::of_epsg(epsg);
        const double meridian = (epsg % 100) * 6 - 183.0;
        for (int i = 0; i < 6000; ++i) {
            double cx, cy;
            const int kind = i % 3;
            const double lat = kind == 1 ? (epsg > 32700 ? -1 : 1) * (80 + unit(rng) * 10) : (unit(rng) - 0.5) * 168;
            utm->forward(meridian + (unit(rng) - 0.5) * (kind == 2 ? 40 : 8), lat, cx, cy);
            if (!std::isfinite(cx)) continue;
            const double half = (i % 7 == 0 ? 5e4 : 10.0) + unit(rng) * (i % 5 == 0 ? 3e5 : 3e3);
            const int densify = i % 2 ? 2 : 21;
            double a[4], b[4];
            REQUIRE(proj_trans_bounds(proj.ctx, proj.pj, PJ_INV, cx - half, cy - half, cx + half, cy + half, &a[0], &a[1], &a[2], &a[3], densify));
            utm->inverse_bounds(cx - half, cy - half, cx + half, cy + half, densify, b[0], b[1], b[2], b[3]);
            INFO("EPSG:" << epsg << " box around (" << cx << ", " << cy << ") half " << half << " densify " << densify);
            for (int k = 0; k < 4; ++k) REQUIRE(same(a[k], b[k]));
            pole_boxes += b[3] == 90 || b[1] == -90;
            antimeridian_boxes += b[0] > b[2];
        }
    }
    CHECK(pole_boxes > 10);
    CHECK(antimeridian_boxes > 10);
}

TEST_CASE("a plan of a real extract: the same jobs, column for column, with the copy and with PROJ alone") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("utm_projection_plan");
    const auto extract = run(sh_quote(binary()) + " extract -q " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(dir + "/a"));
    REQUIRE_MESSAGE(extract.exit_code == 0, extract.err);
    REQUIRE(run("cp -r " + sh_quote(dir + "/a") + " " + sh_quote(dir + "/b")).exit_code == 0);
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"X\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.jpg\"\n"
                                      "gsd = 0.6\nmax_zoom = 19\nyear = 2024\n");
    for (const std::string which : {"a", "b"}) {
        const auto plan = run(std::string(which == "a" ? "SKYSCRIPT_PROJ_ONLY=1 " : "") + sh_quote(binary()) + " plan -q " + sh_quote(dir + "/" + which) +
                              " --sources " + sh_quote(dir + "/sources.toml"));
        REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    }
    const auto a = dir + "/a/state.sqlite", b = dir + "/b/state.sqlite";
    const auto jobs = sql_int(b, "SELECT count(*) FROM jobs");
    CHECK(jobs > 3000);
    CHECK(sql_int(a, "SELECT count(*) FROM jobs") == jobs);
    // Every column of every job, both ways (SQL EXCEPT), in the system python3's sqlite3.
    const auto differing = run("/usr/bin/python3 -c " + sh_quote("import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute('ATTACH ? AS b', (sys.argv[2],)); "
                                                                 "print(*[d.execute(q).fetchone()[0] for q in ('SELECT count(*) FROM (SELECT * FROM main.jobs EXCEPT SELECT * FROM b.jobs)', "
                                                                 "'SELECT count(*) FROM (SELECT * FROM b.jobs EXCEPT SELECT * FROM main.jobs)')])") +
                               " " + sh_quote(a) + " " + sh_quote(b));
    REQUIRE_MESSAGE(differing.exit_code == 0, differing.err);
    CHECK(differing.out == "0 0\n");
}
