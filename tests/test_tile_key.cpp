// A tile key (stored with every job; --reuse takes finished images by it) is written with
// std::to_chars since issue 25; keys written before were made by snprintf's
// "|grid=%d,%dx%d,%.9g,%.3f,%.3f|q=%d". A rebuild with --reuse must find the old keys, so the
// grid part is checked to be those bytes on grids of every kind: random UTM and polar origins
// down to the millimetre's rounding, GSDs of any digits, sizes and qualities.

#include "imagery/tile_grid.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/tile_key.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using skyscript::imagery::TileGrid;
using skyscript::pipeline::make_tile_key;

namespace {

std::string by_snprintf(std::string_view part, const TileGrid& g, int q) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "|grid=%d,%dx%d,%.9g,%.3f,%.3f|q=%d", g.epsg, g.width, g.height, g.gsd, g.geotransform[0],
                  g.geotransform[3], q);
    return std::string(part) + buf;
}

} // namespace

TEST_CASE("a tile key's grid part is the text snprintf wrote for it") {
    std::mt19937_64 rng(25);
    std::uniform_real_distribution<double> unit(0, 1);
    const double gsds[] = {0.6, 1, 0.3, 10, 2.5, 0.1 + 0.2, 1.0 / 3, 1e-9, 123456789.5, 0.29858214173896974};
    std::size_t n = 0;
    for (int i = 0; i < 400000; ++i) {
        TileGrid g;
        g.epsg = i % 3 == 0 ? 3857 : 32600 + static_cast<int>(unit(rng) * 60) + (i % 2) * 100;
        g.width = 1 + static_cast<int>(unit(rng) * 4096);
        g.height = i % 5 == 0 ? g.width : 1 + static_cast<int>(unit(rng) * 4096);
        g.gsd = i < 10 ? gsds[i] : i % 4 == 0 ? std::round(unit(rng) * 1000) / 100 : std::exp(unit(rng) * 20 - 10);
        const double reach = i % 7 == 0 ? 2e7 : 1e6;
        // Half on the millimetre's half (where %.3f's rounding of a binary fraction shows).
        g.geotransform[0] = i % 2 ? (std::round(unit(rng) * reach * 1000) + 0.5) / 1000 : (unit(rng) - 0.5) * 2 * reach;
        g.geotransform[3] = i % 3 ? (std::round(unit(rng) * reach * 2000) + 1) / 2000 - reach : (unit(rng) - 0.5) * 2 * reach;
        const int q = 1 + i % 100;
        const std::string part = i % 2 ? "xyz|http://127.0.0.1:9/{z}/{x}/{y}.jpg" : "";
        const auto ours = make_tile_key(part, g, q), theirs = by_snprintf(part, g, q);
        if (ours != theirs) FAIL_CHECK(ours << " != " << theirs);
        ++n;
    }
    CHECK(n == 400000);
}

TEST_CASE("a tile key's grid part for odd values: negative zero, tiny negatives, not-a-number, infinities, the largest doubles") {
    const double odd[] = {0.0, -0.0, -0.0004, -0.0005, -0.0006, 0.0005, 1e-300, -1e-300, std::nan(""), -std::nan(""),
                          HUGE_VAL, -HUGE_VAL, 1e58, -1e300, 1.7976931348623157e308};
    for (const double a : odd)
        for (const double b : odd) {
            TileGrid g;
            g.epsg = 32632, g.width = 384, g.height = 384, g.gsd = a, g.geotransform[0] = a, g.geotransform[3] = b;
            char buf[1024];
            std::snprintf(buf, sizeof buf, "|grid=%d,%dx%d,%.9g,%.3f,%.3f|q=%d", g.epsg, g.width, g.height, g.gsd, g.geotransform[0],
                          g.geotransform[3], 90);
            CHECK(make_tile_key("", g, 90) == buf);
        }
}

TEST_CASE("a stem is any name make_stem makes, a negative id's too, and never a path (round 36 and its review)") {
    using namespace skyscript::pipeline;
    // A catalog extracted before negative ids were refused holds n-5 and a-7r: their stems are the build's own.
    for (const auto& stem : std::vector<std::string>{make_stem("n123", "CH", 2024), make_stem("a123r", "ESRI", 2021), make_stem("n-5", "CH", 2024), make_stem("a-7r", "X", 1999)}) {
        CHECK_MESSAGE(is_stem(stem), stem);
        CHECK(image_relative_path(3, stem) == "images3/" + stem + ".jpg");
    }
    for (const auto& stem : std::vector<std::string>{"", "../../x", "a/b", "..", ".hidden", "n1_CH_24.jpg", std::string("n1\0x", 4), "n1 x", std::string(201, 'a')}) {
        CHECK_FALSE_MESSAGE(is_stem(stem), stem);
        CHECK_THROWS_AS(image_relative_path(1, stem), std::runtime_error);
        CHECK_THROWS_AS(meta_relative_path(1, stem), std::runtime_error);
    }
}
