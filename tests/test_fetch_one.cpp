// `fetch-one` against the gdalwarp command line on the same grid, on real rasters:
// a rotated geotransform, a UInt16 panchromatic image, an RGBA drone orthophoto,
// a 6-band Landsat scene and an RGB COG. The mean absolute difference of the 8-bit
// values must stay under 3 levels (checked on the GeoTIFF output, before JPEG).

#include "test_support.hpp"

#include <doctest/doctest.h>
#include <unistd.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>
#include <tuple>

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
        const auto r = run(fetch_one_command() + " --raster " + sh_quote(src) + " --center " + center + " --side-m " +
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
    const auto r = run(fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                       " --center 9.505,53.513 --side-m 384 --gsd 1.5 --quality 80 -o " + sh_quote(dir + "/t.jpg"));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("256x256 px, EPSG:32632") != std::string::npos);
    const auto info = run("gdalinfo " + sh_quote(dir + "/t.jpg"));
    CHECK(info.out.find("Driver: JPEG") != std::string::npos);
    CHECK(info.out.find("Size is 256, 256") != std::string::npos);
    CHECK(lines(run("ls " + sh_quote(dir)).out).size() == 1); // no temporary left
}

TEST_CASE("fetch-one removes the partial files a killed fetch-one of the same file left, and no other (red-team round 34)") {
    const auto dir = fresh_dir("fetch_one_partials");
    // A PID no process has now: a shell's, after it ended.
    const auto dead = lines(run("sh -c 'echo $$'").out).at(0);
    const auto live = std::to_string(::getpid()); // this test's: a writer still running
    for (const std::string& name : std::vector<std::string>{"t.tif.partial-" + dead + ".tif", "t.tif.partial-" + dead + "-0", "t.tif.partial-" + live + "-0",
                                                             "u.tif.partial-" + dead + "-0", "t.tif.kept", "t.tif.partial-notes", "t.tif.partial-" + dead + "-01"})
        write_file(dir + "/" + name, "left");
    const auto r = run(fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 384 --gsd 1.5 -o " +
                       sh_quote(dir + "/t.tif"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_FALSE(std::filesystem::exists(dir + "/t.tif.partial-" + dead + ".tif")); // before: a black 'GeoTIFF' GDAL opened, for ever
    CHECK_FALSE(std::filesystem::exists(dir + "/t.tif.partial-" + dead + "-0"));
    CHECK(std::filesystem::exists(dir + "/t.tif.partial-" + live + "-0"));
    CHECK(std::filesystem::exists(dir + "/u.tif.partial-" + dead + "-0")); // another file's
    CHECK(std::filesystem::exists(dir + "/t.tif.kept"));
    CHECK(std::filesystem::exists(dir + "/t.tif.partial-notes")); // a user's file: no writer's temporary (review of round 34)
    CHECK(std::filesystem::exists(dir + "/t.tif.partial-" + dead + "-01")); // nor a date-like name (review of round 35)
    CHECK(run("gdalinfo " + sh_quote(dir + "/t.tif")).out.find("Driver: GTiff") != std::string::npos);
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
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + common.substr(0, common.find(" -o")), "--output", 2},
                          // Red-team round 37: a wrapped int (a 500 px tile, "band -2147483648"), and 1e308 m read as under a pixel.
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 4294967796 --gsd 1 -o x.jpg",
                              "tile of 4294967796 px a side is over 32,768 px", 2},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 1e308 --gsd 1 -o x.jpg", "px a side is over 32,768 px", 2},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --bands 2147483648,1,1" + common, "--bands: expected 1-based band numbers (1-65535), got `2147483648`", 2},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --bands 1.5,1,1" + common, "got `1.5`", 2},
                          // A GDAL virtual path (red-team round 27: a raw "cannot rename", or an empty zip left in the folder).
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 100 --gsd 1 -o /vsimem/a.tif", "not a GDAL virtual path", 2},
                          Bad{"--raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 100 --gsd 1 -o /vsizip/" + dir + "/new.zip/a.tif",
                              "not a GDAL virtual path", 2}}) {
        const auto r = run(fetch_one_command() + " " + b.args);
        INFO(b.args << "\n" << r.err);
        CHECK(r.exit_code == b.code);
        CHECK(lines(r.err).size() == 1);
        CHECK(r.err.find(b.must_name) != std::string::npos);
    }
    CHECK(lines(run("ls " + sh_quote(dir)).out).size() == 1); // only the non-raster input
    // An upper-case extension is the same file type (before: -o X.JPG refused, X.tiff taken).
    const auto upper = run(fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) + common.substr(0, common.find(" -o")) + " -q -o " +
                           sh_quote(dir + "/UP.JPG"));
    CHECK_MESSAGE(upper.exit_code == 0, upper.err);
    CHECK(load_raster(dir + "/UP.JPG").width == 100);
}

TEST_CASE("fetch-one refuses --bands, --stretch and --resampling for a source they do not apply to, instead of ignoring them (red-team round 31)") {
    const auto dir = fresh_dir("fetch_one_kind_options");
    write_file(dir + "/s.toml", "[[source]]\nalias = \"XT\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.jpg\"\ngsd = 1\nyear = 2020\n"
                                "[[source]]\nalias = \"EE\"\nkind = \"earthengine\"\ncollection = \"X/Y\"\ngsd = 10\nbands = [\"R\", \"G\", \"B\"]\nyear = 2020\n"
                                "[[source]]\nalias = \"ST\"\nkind = \"stac\"\napi = \"http://127.0.0.1:9/\"\ncollection = \"c\"\nassets = [\"red\", \"green\", \"blue\"]\ngsd = 10\n");
    const auto fetch = [&](const std::string& alias, const std::string& flags) {
        return run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") + " --source " + alias +
                   " --center 9.505,53.513 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/out.jpg") + " " + flags);
    };
    for (const auto& [alias, flags, named] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"XT", "--bands 3,2,1", "--bands does not apply to source XT (xyz"},
             {"XT", "--stretch 0,50", "--stretch does not apply to source XT"},
             {"XT", "--resampling near", "--resampling does not apply to source XT"},
             {"EE", "--bands 3,2,1", "--bands does not apply to source EE (earthengine"},
             {"EE", "--stretch tile", "--stretch does not apply to source EE"},
             {"ST", "--bands 3,2,1", "--bands does not apply to source ST (stac: its three assets"}}) {
        const auto r = fetch(alias, flags);
        INFO(flags << "\n" << r.err);
        CHECK(r.exit_code == 2); // before: xyz 0 (the same tile whatever the flags said; no server asked here: 1)
        CHECK(lines(r.err).size() == 1);
        CHECK(r.err.find(named) != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(dir + "/out.jpg"));
}

TEST_CASE("the gdal kind reads remote rasters: a /vsicurl/ COG and a TMS XML description, from loopback") {
    // The test server serves files under its root at /xyz/...; give it the whole data folder.
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data"});
    const auto dir = fresh_dir("fetch_one_remote");
    const auto cog = run("GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR " + fetch_one_command() + " --raster " +
                         sh_quote("/vsicurl/" + server.url("/xyz/imagery/dop-rgb.tif")) +
                         " --center 9.505,53.513 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/remote.tif"));
    INFO(cog.err);
    REQUIRE(cog.exit_code == 0);
    const auto local = run(fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
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
        const auto tms = run(fetch_one_command() + " --raster " + sh_quote(dir + "/tms.xml") + grid + sh_quote(dir + "/tms.tif"));
        INFO(tms.err);
        REQUIRE(tms.exit_code == 0);
        CHECK(tms.out.find("200x200 px, EPSG:32629") != std::string::npos);
        const auto xyz = run(fetch_one_command() + " --sources " + sh_quote(dir + "/xyz.toml") + " --source LM" + grid +
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
    const auto none = run(fetch_one_command() + " --raster " + sh_quote(dir + "/tms.xml") + " --center 10,50 --side-m 200 --gsd 1 -o " +
                          sh_quote(dir + "/none.jpg"));
    CHECK(none.exit_code == 1);
    CHECK(lines(none.err).size() == 1);
    CHECK(none.err.find("tms.xml: no data in this tile: the server sent no imagery for it") != std::string::npos);
}

namespace {

// The gdalwarp reference of a fetch-one tile (same grid, Float32, with its alpha).
RasterData warp_reference(const std::string& src, const RasterData& ours, const std::string& out) {
    char te[256];
    std::snprintf(te, sizeof te, "-te %.6f %.6f %.6f %.6f -ts %d %d", ours.gt[0], ours.gt[3] + ours.height * ours.gt[5],
                  ours.gt[0] + ours.width * ours.gt[1], ours.gt[3], ours.width, ours.height);
    const auto w = run("gdalwarp -q -overwrite -t_srs EPSG:" + std::to_string(ours.epsg) + " " + te + " -r bilinear -ot Float32 -dstalpha " +
                       sh_quote(src) + " " + sh_quote(out));
    REQUIRE(w.exit_code == 0);
    return load_raster(out);
}

// Mean absolute difference between our 8-bit band 1 and the reference band 1 mapped lo..hi -> 0..255.
double stretched_diff(const RasterData& ours, const RasterData& ref, double lo, double hi) {
    double diff = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < ref.data[0].size(); ++i) {
        if (ref.data.back()[i] <= 0) continue;
        diff += std::abs(ours.data[0][i] - std::clamp(std::round((ref.data[0][i] - lo) * 255.0 / (hi - lo)), 0.0, 255.0));
        ++n;
    }
    REQUIRE(n > 1000);
    return diff / double(n);
}

} // namespace

TEST_CASE("the automatic stretch of non-Byte rasters is the whole raster's, the same in every tile; --stretch tile is per tile") {
    const auto dir = fresh_dir("fetch_one_stretch");
    const auto src = data("imagery/pan1.tif"); // UInt16, 600 x 600 px, no overviews
    // The raster's own 2nd and 98th percentiles, by numpy.
    const auto pct = run("/usr/bin/python3 -c " + sh_quote("import sys\nimport numpy as np\nfrom osgeo import gdal\n"
                                                           "a = gdal.Open(sys.argv[1]).ReadAsArray()\n"
                                                           "print(*np.percentile(a, [2, 98], method='lower'))") +
                         " " + sh_quote(src));
    REQUIRE(pct.exit_code == 0);
    double lo = 0, hi = 0;
    REQUIRE(std::sscanf(pct.out.c_str(), "%lf %lf", &lo, &hi) == 2);
    // A dark tile and a bright one (60 m, 2nd-98th percentiles about 40..273 and 42..817).
    for (const std::string centre : {"4.35574,51.86963", "4.35695,51.87124"}) {
        INFO(centre);
        const auto auto_tif = dir + "/auto.tif", tile_tif = dir + "/tile.tif";
        const std::string args = " fetch-one --raster " + sh_quote(src) + " --center " + centre + " --side-m 60 --gsd 0.5 -o ";
        const auto a = run(sh_quote(binary()) + args + sh_quote(auto_tif));
        INFO(a.err);
        REQUIRE(a.exit_code == 0);
        const auto ours = load_raster(auto_tif);
        const auto ref = warp_reference(src, ours, dir + "/ref.tif");
        CHECK(stretched_diff(ours, ref, lo, hi) < 3.0);
        const auto t = run(sh_quote(binary()) + args + sh_quote(tile_tif) + " --stretch tile");
        INFO(t.err);
        REQUIRE(t.exit_code == 0);
        const auto ours_tile = load_raster(tile_tif);
        // --stretch tile: the percentiles of this tile's own (warped) pixels.
        std::vector<float> v;
        for (std::size_t i = 0; i < ref.data[0].size(); ++i)
            if (ref.data.back()[i] > 0) v.push_back(ref.data[0][i]);
        std::sort(v.begin(), v.end());
        const double tile_lo = v[static_cast<std::size_t>(0.02 * double(v.size() - 1))], tile_hi = v[static_cast<std::size_t>(0.98 * double(v.size() - 1))];
        INFO("raster range " << lo << ".." << hi << ", tile range " << tile_lo << ".." << tile_hi);
        CHECK(std::abs(tile_hi - hi) > 150); // the tiles do differ from the raster: the test can tell the two apart
        CHECK(stretched_diff(ours_tile, ref, tile_lo, tile_hi) < 3.0);
    }
    // A raster too large to read whole and without overviews (the same image, 4,200 px a
    // side) is sampled in windows: about the same range.
    const auto big = dir + "/big.tif";
    REQUIRE(run("gdal_translate -q -outsize 4200 4200 -r nearest -co TILED=YES -co COMPRESS=DEFLATE " + sh_quote(src) + " " + sh_quote(big)).exit_code == 0);
    const auto b = run(fetch_one_command() + " --raster " + sh_quote(big) + " --center 4.35695,51.87124 --side-m 60 --gsd 0.5 -o " +
                       sh_quote(dir + "/big-out.tif"));
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    const auto ours_big = load_raster(dir + "/big-out.tif");
    CHECK(stretched_diff(ours_big, warp_reference(big, ours_big, dir + "/big-ref.tif"), lo, hi) < 5.0);
}

TEST_CASE("bands: unlabelled multi-band rasters need --bands; labels, gray and palettes are read as they say") {
    const auto dir = fresh_dir("fetch_one_bands");
    const auto l7 = data("imagery/L7_ETMs.tif"); // 6 bands: Gray, then Undefined
    const std::string grid = " --center -34.87,-7.99 --side-m 9000 --gsd 30 -o ";
    const auto unlabelled = run(fetch_one_command() + " --raster " + sh_quote(l7) + grid + sh_quote(dir + "/l7.tif"));
    INFO(unlabelled.err);
    CHECK(unlabelled.exit_code == 1);
    CHECK(lines(unlabelled.err).size() == 1);
    CHECK(unlabelled.err.find(l7 + ": its bands are not labelled red, green and blue") != std::string::npos);
    CHECK(unlabelled.err.find("1 Gray, 2 Undefined, 3 Undefined, 4 Undefined, 5 Undefined, 6 Undefined") != std::string::npos);
    CHECK(unlabelled.err.find("--bands R,G,B") != std::string::npos);
    CHECK(unlabelled.err.find("bands = [R, G, B]") != std::string::npos);
    CHECK(lines(run("ls " + sh_quote(dir)).out).empty());

    const auto chosen = run(fetch_one_command() + " --raster " + sh_quote(l7) + " --bands 3,2,1" + grid + sh_quote(dir + "/l7.tif"));
    REQUIRE(chosen.exit_code == 0);
    // The same bands written as a plain RGB GeoTIFF (PHOTOMETRIC=RGB labels them): read
    // without --bands, the same pixels. As MINISBLACK (unlabelled): refused.
    REQUIRE(run("gdal_translate -q -b 3 -b 2 -b 1 -co PHOTOMETRIC=RGB " + sh_quote(l7) + " " + sh_quote(dir + "/rgb.tif")).exit_code == 0);
    REQUIRE(run("gdal_translate -q -b 3 -b 2 -b 1 -co PHOTOMETRIC=MINISBLACK -colorinterp undefined,undefined,undefined " + sh_quote(l7) + " " +
                sh_quote(dir + "/gray3.tif")).exit_code == 0);
    const auto rgb = run(fetch_one_command() + " --raster " + sh_quote(dir + "/rgb.tif") + grid + sh_quote(dir + "/rgb-out.tif"));
    INFO(rgb.err);
    REQUIRE(rgb.exit_code == 0);
    CHECK(load_raster(dir + "/rgb-out.tif").data == load_raster(dir + "/l7.tif").data);
    const auto gray3 = run(fetch_one_command() + " --raster " + sh_quote(dir + "/gray3.tif") + grid + sh_quote(dir + "/g3.tif"));
    CHECK(gray3.exit_code == 1);
    CHECK(gray3.err.find("not labelled red, green and blue") != std::string::npos);
    // One band is gray.
    REQUIRE(run("gdal_translate -q -b 4 " + sh_quote(l7) + " " + sh_quote(dir + "/nir.tif")).exit_code == 0);
    const auto gray = run(fetch_one_command() + " --raster " + sh_quote(dir + "/nir.tif") + grid + sh_quote(dir + "/nir-out.tif"));
    INFO(gray.err);
    REQUIRE(gray.exit_code == 0);
    const auto g = load_raster(dir + "/nir-out.tif");
    CHECK(g.data[0] == g.data[1]);
    CHECK(g.data[1] == g.data[2]);

    // A paletted GeoTIFF (GDAL's rgb2pct of the RGB COG): colours from its palette, not gray indices.
    const auto dop = data("imagery/dop-rgb.tif");
    REQUIRE(run("rgb2pct.py " + sh_quote(dop) + " " + sh_quote(dir + "/pct.tif") + " >/dev/null").exit_code == 0);
    const std::string dop_grid = " --center 9.505,53.513 --side-m 300 --gsd 1 -o ";
    const auto pct = run(fetch_one_command() + " --raster " + sh_quote(dir + "/pct.tif") + dop_grid + sh_quote(dir + "/pct-out.tif"));
    INFO(pct.err);
    REQUIRE(pct.exit_code == 0);
    REQUIRE(run(fetch_one_command() + " --raster " + sh_quote(dop) + dop_grid + sh_quote(dir + "/dop-out.tif")).exit_code == 0);
    const auto p = load_raster(dir + "/pct-out.tif"), d = load_raster(dir + "/dop-out.tif");
    double diff = 0;
    for (int c = 0; c < 3; ++c)
        for (std::size_t i = 0; i < d.data[c].size(); ++i) diff += std::abs(p.data[c][i] - d.data[c][i]);
    CHECK(diff / (3.0 * double(d.data[0].size())) < 12.0); // 256 colours against the full RGB
    CHECK(p.data[0] != p.data[2]);
}

TEST_CASE("a /vsicurl/ raster on loopback is read directly whatever http_proxy says, as the engine's requests are (red-team round 28)") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data"});
    const auto dir = fresh_dir("fetch_one_proxy");
    // A proxy that is not there (port 9, discard): through it, the read failed as "cannot open as a raster".
    const auto r = run("http_proxy=http://u:secret@127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR " + fetch_one_command() +
                       " --raster " + sh_quote("/vsicurl/" + server.url("/xyz/imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 300 --gsd 1 -o " +
                       sh_quote(dir + "/remote.tif"));
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.err.find("secret") == std::string::npos);
}
