// Tile grid maths (PROJ), JPEG encoding/decoding, and the 8-bit stretch.

#include "gdal_source.hpp"
#include "jpeg.hpp"
#include "tile_grid.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace skyscript::imagery;

TEST_CASE("UTM zone choice: zone edges, hemispheres, UPS beyond 84N / 80S") {
    CHECK(utm_epsg_for(5.999, 45) == 32631);
    CHECK(utm_epsg_for(6.001, 45) == 32632);
    CHECK(utm_epsg_for(7.42, 43.73) == 32632);
    CHECK(utm_epsg_for(-74.0, 40.7) == 32618);
    CHECK(utm_epsg_for(-34.9, -8.0) == 32725);
    CHECK(utm_epsg_for(179.999, 10) == 32660);
    CHECK(utm_epsg_for(-180, 10) == 32601);
    CHECK(utm_epsg_for(180, 10) == 32660);
    CHECK(utm_epsg_for(10, 84.5) == 32661);
    CHECK(utm_epsg_for(10, -80.5) == 32761);
}

TEST_CASE("tile grid: size, pixel size, centre and box round trips") {
    struct Case {
        double lon, lat, side, gsd;
    };
    for (const auto& c : {Case{7.42, 43.73, 384 * 0.6, 0.6}, Case{5.9999, 46.5, 1000, 1}, Case{6.0001, 46.5, 1000, 1},
                          Case{-74.0, 40.7, 3840, 10}, Case{26.95, 60.53, 500, 0.5}, Case{10, 83.99, 2000, 10},
                          Case{10, 84.01, 2000, 10}, Case{-60, -79.99, 2000, 10}, Case{-60, -80.01, 2000, 10},
                          Case{179.9995, -16.5, 3000, 10}, Case{-179.9995, 65.5, 3000, 10}}) {
        INFO(c.lon << "," << c.lat);
        const auto g = make_tile_grid(c.lon, c.lat, c.side, c.gsd);
        CHECK(g.width == std::lround(c.side / c.gsd));
        CHECK(g.height == g.width);
        CHECK(g.geotransform[1] == c.gsd);
        CHECK(g.geotransform[5] == -c.gsd);
        double lon, lat;
        grid_to_lonlat(g.epsg, g.center_x, g.center_y, lon, lat);
        CHECK(lon == doctest::Approx(c.lon).epsilon(1e-9));
        CHECK(lat == doctest::Approx(c.lat).epsilon(1e-9));
        // The centre is inside the box; the box spans about side metres.
        CHECK(g.box.south < c.lat);
        CHECK(g.box.north > c.lat);
        const double dlat_m = (g.box.north - g.box.south) * 111320;
        CHECK(dlat_m > c.side * 0.95);
        CHECK(dlat_m < c.side * 1.5);
        // Every corner of the pixel grid maps back into the box.
        for (double fx : {0.0, 1.0})
            for (double fy : {0.0, 1.0}) {
                const double x = g.geotransform[0] + fx * g.width * c.gsd, y = g.geotransform[3] - fy * g.height * c.gsd;
                grid_to_lonlat(g.epsg, x, y, lon, lat);
                CHECK(lat >= g.box.south - 1e-9);
                CHECK(lat <= g.box.north + 1e-9);
                if (!g.box.crosses_antimeridian()) {
                    CHECK(lon >= g.box.west - 1e-9);
                    CHECK(lon <= g.box.east + 1e-9);
                }
            }
    }
}

TEST_CASE("tiles across the antimeridian have west > east; others do not") {
    const auto a = make_tile_grid(179.9995, -16.5, 3000, 10);
    CHECK(a.box.crosses_antimeridian());
    CHECK(a.box.west > 179.9);
    CHECK(a.box.east < -179.9);
    const auto b = make_tile_grid(-179.9995, 65.5, 3000, 10);
    CHECK(b.box.crosses_antimeridian());
    CHECK_FALSE(make_tile_grid(179.9, -16.5, 3000, 10).box.crosses_antimeridian());
}

TEST_CASE("tile grid rejects bad input") {
    CHECK_THROWS_AS(make_tile_grid(181, 0, 100, 1), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 91, 100, 1), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 0, -5, 1), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 0, 100, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 0, 40000, 1), std::invalid_argument); // 40,000 px > 32,768
}

TEST_CASE("JPEG: encode, decode, and refuse truncated or non-JPEG bodies") {
    RgbImage img;
    img.width = 64;
    img.height = 48;
    for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x) {
            img.rgb.push_back(static_cast<std::uint8_t>(x * 4));
            img.rgb.push_back(static_cast<std::uint8_t>(y * 5));
            img.rgb.push_back(128);
        }
    const auto jpg = encode_jpeg(img, 95);
    REQUIRE(jpg.size() > 100);
    CHECK(static_cast<unsigned char>(jpg[0]) == 0xFF);
    CHECK(static_cast<unsigned char>(jpg[1]) == 0xD8);
    const auto back = decode_jpeg(jpg);
    CHECK(back.width == 64);
    CHECK(back.height == 48);
    double mad = 0;
    for (std::size_t i = 0; i < img.rgb.size(); ++i) mad += std::abs(int(img.rgb[i]) - int(back.rgb[i]));
    CHECK(mad / double(img.rgb.size()) < 3);
    CHECK_THROWS_AS(decode_jpeg(jpg.substr(0, jpg.size() / 2)), std::runtime_error);
    CHECK_THROWS_AS(decode_jpeg("<html>not an image</html>"), std::runtime_error);
    CHECK_THROWS_AS(encode_jpeg(img, 0), std::invalid_argument);
}

TEST_CASE("stretch: Byte as is, fixed range, percentile for other types, invalid pixels black") {
    const std::vector<float> r{0, 100, 200, 300}, g{0, 100, 200, 300}, b{0, 100, 200, 300};
    const std::vector<std::uint8_t> valid{1, 1, 1, 0};
    std::vector<std::uint8_t> out;
    stretch_to_rgb8({r.data(), g.data(), b.data()}, valid, 4, true, Stretch{}, out);
    CHECK(out == std::vector<std::uint8_t>{0, 0, 0, 100, 100, 100, 200, 200, 200, 0, 0, 0});
    Stretch fixed;
    fixed.mode = Stretch::Mode::fixed;
    fixed.min = 100;
    fixed.max = 200;
    stretch_to_rgb8({r.data(), g.data(), b.data()}, valid, 4, false, fixed, out);
    CHECK(out == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 255, 255, 255, 0, 0, 0});
    Stretch pct;
    pct.low_percent = 0;
    pct.high_percent = 100;
    stretch_to_rgb8({r.data(), g.data(), b.data()}, valid, 4, false, pct, out); // valid range 0..200
    CHECK((out[3] == 127 || out[3] == 128)); // 100 of 0..200
    CHECK(out[6] == 255);
}
