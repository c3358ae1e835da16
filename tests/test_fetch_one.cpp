// `fetch-one` against the gdalwarp command line on the same grid, on real rasters:
// a rotated geotransform, a UInt16 panchromatic image, an RGBA drone orthophoto,
// a 6-band Landsat scene and an RGB COG. The mean absolute difference of the 8-bit
// values must stay under 3 levels (checked on the GeoTIFF output, before JPEG).

#include "test_support.hpp"

#include <doctest/doctest.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace skyscript::test;

namespace {

struct Case {
    std::string file;
    double lon, lat, side, gsd;
    std::vector<int> rgb_bands;     // 1-based bands of the gdalwarp output (before its alpha)
    double stretch_min = 0, stretch_max = 255;
    std::string extra;              // fetch-one options
};

} // namespace

TEST_CASE("fetch-one matches gdalwarp on the same grid, within 3 levels") {
    const std::vector<Case> cases{
        {"ch-bw.tif", 8.176, 46.844, 500, 0.5, {1, 1, 1}, 0, 255, ""},                 // rotated geotransform, gray
        {"pan1.tif", 4.3569, 51.8705, 200, 0.5, {1, 1, 1}, 0, 2047, "--stretch 0,2047"}, // UInt16
        {"orthophoto.tif", -91.9938, 46.8426, 150, 0.5, {1, 2, 3}, 0, 255, ""},        // RGBA
        {"L7_ETMs.tif", -34.87, -7.99, 9000, 30, {3, 2, 1}, 0, 255, "--bands 3,2,1"}, // 6-band Landsat
        {"dop-rgb.tif", 9.505, 53.513, 600, 1, {1, 2, 3}, 0, 255, ""},                 // RGB COG
    };
    for (const auto& c : cases) {
        INFO(c.file);
        const auto dir = fresh_dir("fetch_one_" + c.file);
        const auto src = data("imagery/" + c.file);
        char center[64];
        std::snprintf(center, sizeof center, "%.6f,%.6f", c.lon, c.lat);
        const auto ours_path = dir + "/ours.tif";
        const auto r = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(src) + " --center " + center + " --side-m " +
                           std::to_string(c.side) + " --gsd " + std::to_string(c.gsd) + " -o " + sh_quote(ours_path) + " " + c.extra);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const auto ours = load_raster(ours_path);
        CHECK(ours.width == std::lround(c.side / c.gsd));
        CHECK(ours.bands == 3);

        const double x0 = ours.gt[0], y1 = ours.gt[3], x1 = x0 + ours.width * ours.gt[1], y0 = y1 + ours.height * ours.gt[5];
        const auto ref_path = dir + "/gdalwarp.tif";
        char te[256];
        std::snprintf(te, sizeof te, "-te %.6f %.6f %.6f %.6f -ts %d %d", x0, y0, x1, y1, ours.width, ours.height);
        const auto w = run("gdalwarp -q -overwrite -t_srs EPSG:" + std::to_string(ours.epsg) + " " + te +
                           " -r bilinear -ot Float32 -dstalpha " + sh_quote(src) + " " + sh_quote(ref_path));
        INFO(w.err);
        REQUIRE(w.exit_code == 0);
        const auto ref = load_raster(ref_path);
        const auto& alpha = ref.data.back();
        double diff = 0;
        std::size_t n = 0, invalid_not_black = 0;
        const double scale = 255.0 / (c.stretch_max - c.stretch_min);
        for (std::size_t i = 0; i < alpha.size(); ++i) {
            for (int ch = 0; ch < 3; ++ch) {
                const float got = ours.data[ch][i];
                if (alpha[i] <= 0) {
                    invalid_not_black += got != 0;
                    continue;
                }
                const double v = std::clamp(std::round((ref.data[c.rgb_bands[ch] - 1][i] - c.stretch_min) * scale), 0.0, 255.0);
                diff += std::abs(got - v);
                ++n;
            }
        }
        REQUIRE(n > 1000);
        const double mad = diff / double(n);
        INFO("mean absolute difference " << mad << " over " << n << " samples");
        MESSAGE(c.file << ": mean absolute difference " << mad << " levels over " << n << " samples");
        CHECK(mad < 3.0);
        CHECK(invalid_not_black == 0); // outside the data (alpha 0): black, not garbage
    }
}

TEST_CASE("fetch-one writes a JPEG of the right size, atomically") {
    const auto dir = fresh_dir("fetch_one_jpeg");
    const auto r = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                       " --center 9.505,53.513 --side-m 384 --gsd 1.5 --quality 80 -o " + sh_quote(dir + "/t.jpg"));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("256x256 px, EPSG:32632") != std::string::npos);
    const auto info = run("gdalinfo " + sh_quote(dir + "/t.jpg"));
    CHECK(info.out.find("Driver: JPEG") != std::string::npos);
    CHECK(info.out.find("Size is 256, 256") != std::string::npos);
    CHECK(lines(run("ls " + sh_quote(dir)).out).size() == 1); // no temporary left
}

TEST_CASE("fetch-one errors: one line naming the file or option, nothing written") {
    const auto dir = fresh_dir("fetch_one_errors");
    write_file(dir + "/not-a-raster.tif", "hello");
    const std::string common = " --center 9.505,53.513 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/out.jpg");
    struct Bad {
        std::string args, must_name;
        int code;
    };
    for (const auto& b : {Bad{"--raster " + sh_quote(dir + "/missing.tif") + common, dir + "/missing.tif", 1},
                          Bad{"--raster " + sh_quote(dir + "/not-a-raster.tif") + common, dir + "/not-a-raster.tif", 1},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 10,50 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/out.jpg"), "no data in this tile", 1},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.5 --side-m 100 --gsd 1 -o x.jpg", "--center", 2},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.5,53.5 --side-m 100 --gsd 0 -o x.jpg", "--gsd", 2},
                          Bad{"--raster " + sh_quote(data("imagery/L7_ETMs.tif")) + " --bands 9,2,1 --center -34.87,-7.99 --side-m 900 --gsd 30 -o " + sh_quote(dir + "/out.jpg"), "band 9", 1},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + common.substr(0, common.find(" -o")), "--output", 2}}) {
        const auto r = run(sh_quote(binary()) + " fetch-one " + b.args);
        INFO(b.args << "\n" << r.err);
        CHECK(r.exit_code == b.code);
        CHECK(lines(r.err).size() == 1);
        CHECK(r.err.find(b.must_name) != std::string::npos);
    }
    CHECK(lines(run("ls " + sh_quote(dir)).out).size() == 1); // only the non-raster input
}

TEST_CASE("the gdal kind reads remote rasters: a /vsicurl/ COG and a TMS XML description, from loopback") {
    // The test server serves files under its root at /xyz/...; give it the whole data folder.
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data"});
    const auto dir = fresh_dir("fetch_one_remote");
    const auto cog = run("GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR " + sh_quote(binary()) + " fetch-one --raster " +
                         sh_quote("/vsicurl/" + server.url("/xyz/imagery/dop-rgb.tif")) +
                         " --center 9.505,53.513 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/remote.tif"));
    INFO(cog.err);
    REQUIRE(cog.exit_code == 0);
    const auto local = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                           " --center 9.505,53.513 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/local.tif"));
    REQUIRE(local.exit_code == 0);
    const auto a = load_raster(dir + "/remote.tif"), b = load_raster(dir + "/local.tif");
    CHECK(a.data == b.data); // the same bytes, read over HTTP range requests

    write_file(dir + "/tms.xml", "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>" + server.url("/xyz/tiles/${z}/${x}/${y}.jpg") +
                                     "</ServerUrl></Service><DataWindow><UpperLeftX>-20037508.34</UpperLeftX>"
                                     "<UpperLeftY>20037508.34</UpperLeftY><LowerRightX>20037508.34</LowerRightX>"
                                     "<LowerRightY>-20037508.34</LowerRightY><TileLevel>17</TileLevel><TileCountX>1</TileCountX>"
                                     "<TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
                                     "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>3</BandsCount>"
                                     "<ZeroBlockHttpCodes>404</ZeroBlockHttpCodes></GDAL_WMS>");
    write_file(dir + "/xyz.toml", "[[source]]\nalias = \"LM\"\nkind = \"xyz\"\nurl = \"" + server.url("/xyz/tiles/{z}/{x}/{y}.jpg") +
                                      "\"\ngsd = 1\nmax_zoom = 17\n");
    // The TMS tile against the same tiles through the xyz source (our own HTTP, JPEG and
    // Web Mercator code, itself checked against gdalwarp in test_xyz_source): the same
    // pixels where both have data, the same share of pixels with data. The second place
    // has its north-west quarter in the tile the server answers 404 for.
    for (const std::string centre : {"-9.4551,38.8493", "-9.4565,38.8504"}) {
        INFO(centre);
        const std::string grid = " --center " + centre + " --side-m 200 --gsd 1 -o ";
        const auto tms = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(dir + "/tms.xml") + grid + sh_quote(dir + "/tms.tif"));
        INFO(tms.err);
        REQUIRE(tms.exit_code == 0);
        CHECK(tms.out.find("200x200 px, EPSG:32629") != std::string::npos);
        const auto xyz = run(sh_quote(binary()) + " fetch-one --sources " + sh_quote(dir + "/xyz.toml") + " --source LM" + grid +
                             sh_quote(dir + "/xyz.tif"));
        INFO(xyz.err);
        REQUIRE(xyz.exit_code == 0);
        auto share = [](const std::string& out) { return std::stod(out.substr(out.rfind(", ") + 2)); };
        const double tms_share = share(tms.out), xyz_share = share(xyz.out);
        CHECK(tms_share == doctest::Approx(xyz_share).epsilon(0.01));
        CHECK(tms_share <= (centre == "-9.4551,38.8493" ? 100.0 : 76.0));
        CHECK(tms_share >= (centre == "-9.4551,38.8493" ? 100.0 : 74.0));
        const auto a = load_raster(dir + "/tms.tif"), b = load_raster(dir + "/xyz.tif");
        double diff = 0;
        std::size_t n = 0, data_where_none = 0;
        for (std::size_t i = 0; i < a.data[0].size(); ++i) {
            const bool a_data = a.data[0][i] + a.data[1][i] + a.data[2][i] > 0, b_data = b.data[0][i] + b.data[1][i] + b.data[2][i] > 0;
            data_where_none += a_data && !b_data;
            if (!a_data || !b_data) continue;
            for (int c = 0; c < 3; ++c) diff += std::abs(a.data[c][i] - b.data[c][i]);
            n += 3;
        }
        REQUIRE(n > 50000);
        CHECK(diff / double(n) < 3.0);
        CHECK(data_where_none < 400); // a pixel's width of blending along the missing tile's edges
    }
    // A place the server has no tile for: no data, and the reason.
    const auto none = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(dir + "/tms.xml") + " --center 10,50 --side-m 200 --gsd 1 -o " +
                          sh_quote(dir + "/none.jpg"));
    CHECK(none.exit_code == 1);
    CHECK(lines(none.err).size() == 1);
    CHECK(none.err.find("tms.xml: no data in this tile: the server sent no imagery for it") != std::string::npos);
}
