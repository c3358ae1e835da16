// The xyz source: tile maths, and real tiles served from loopback, stitched and warped,
// compared with gdalwarp reading the same server through GDAL's WMS (TMS) driver; a
// server sending huge bodies or gzip bombs; a token in the URL kept out of every output.

#include "test_support.hpp"
#include "pipeline/common/tile_key.hpp"
#include "imagery/jpeg.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"
#include "imagery/sources/xyz/xyz_source.hpp"
#include "imagery/tile_grid.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <gdal_priv.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <memory>

using namespace skyscript::imagery;
using namespace skyscript::test;

TEST_CASE("zoom from GSD, quadkeys, URL templates, covering tiles") {
    CHECK(xyz_resolution(0, 0, 256) == doctest::Approx(156543.03392804097));
    CHECK(xyz_resolution(17, 0, 256) == doctest::Approx(1.19432856685));
    CHECK(xyz_zoom_for(1.0, 38.85, 256, 22) == 17); // 0.93 m at z17
    CHECK(xyz_zoom_for(0.6, 38.85, 256, 22) == 18);
    CHECK(xyz_zoom_for(0.6, 38.85, 256, 17) == 17); // capped
    CHECK(xyz_zoom_for(0.6, 38.85, 512, 22) == 17); // 512 px tiles: one level less
    CHECK(xyz_quadkey(3, 3, 5) == "213");
    CHECK(xyz_quadkey(1, 0, 0) == "0");
    CHECK(xyz_url("http://h/{z}/{x}/{y}.png", {17, 62093, 50163}, false) == "http://h/17/62093/50163.png");
    CHECK(xyz_url("http://h/{z}/{x}/{y}.png", {3, 1, 2}, true) == "http://h/3/1/5.png");
    CHECK(xyz_url("http://h/{z}/{x}/{-y}.png", {3, 1, 2}, false) == "http://h/3/1/5.png");
    CHECK(xyz_url("http://h/a{q}b", {3, 3, 5}, false) == "http://h/a213b");
    const auto tiles = xyz_covering_tiles({-9.4575, 38.8475, -9.4528, 38.8511}, 17);
    REQUIRE(tiles.size() == 9); // x 62092..62094, y 50162..50164
    CHECK(tiles.front() == XyzTile{17, 62092, 50162});
    CHECK(tiles.back() == XyzTile{17, 62094, 50164});
    const auto across = xyz_covering_tiles({179.99, -0.01, -179.99, 0.01}, 10);
    REQUIRE(across.size() == 4);
    CHECK(across[0].x == 1023);
    CHECK(across[2].x == 0);
}

namespace {

std::string sources_toml(const ServerProcess& server, const std::string& alias, int zoom, int px, const std::string& prefix = "") {
    return "[[source]]\nalias = \"" + alias + "\"\nkind = \"xyz\"\nurl = \"" + server.url(prefix + "/xyz/{z}/{x}/{y}.jpg") +
           "\"\ngsd = 1\nmax_zoom = " + std::to_string(zoom) + "\ntile_px = " + std::to_string(px) + "\n";
}

// fetch-one of a 100 m tile in Lisbon (tile 17/62093/50163's middle) from an xyz source `alias`
// served through the fault `fault` ("/f/corrupt/999": http_test_server.py's faults), into `dir`.
CommandResult fetch_one_through(const ServerProcess& server, const std::string& dir, const std::string& alias, const std::string& fault,
                                const std::string& extra) {
    write_file(dir + "/s.toml", sources_toml(server, alias, 17, 256, fault));
    return run("timeout 60 " + sh_quote(binary()) + " fetch-one --sources " + sh_quote(dir + "/s.toml") + " --source " + alias +
               " --center -9.4551,38.8493 --side-m 100 --gsd 1 " + extra + " -o " + sh_quote(dir + "/t.jpg"));
}

} // namespace

TEST_CASE("xyz tiles from loopback match gdalwarp through GDAL's TMS driver, within 3 levels") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_vs_gdalwarp");
    write_file(dir + "/s.toml", sources_toml(server, "LM", 17, 256));
    const auto r = run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") +
                       " --source LM --center -9.4551,38.8493 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/ours.tif"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto ours = load_raster(dir + "/ours.tif");
    REQUIRE(ours.width == 300);

    write_file(dir + "/tms.xml", "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>" + server.url("/xyz/${z}/${x}/${y}.jpg") +
                                     "</ServerUrl></Service><DataWindow><UpperLeftX>-20037508.34</UpperLeftX>"
                                     "<UpperLeftY>20037508.34</UpperLeftY><LowerRightX>20037508.34</LowerRightX>"
                                     "<LowerRightY>-20037508.34</LowerRightY><TileLevel>17</TileLevel><TileCountX>1</TileCountX>"
                                     "<TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
                                     "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>3</BandsCount>"
                                     "<ZeroBlockHttpCodes>404</ZeroBlockHttpCodes><Cache/></GDAL_WMS>");
    char te[200];
    std::snprintf(te, sizeof te, "-te %.6f %.6f %.6f %.6f -ts %d %d", ours.gt[0], ours.gt[3] + ours.height * ours.gt[5],
                  ours.gt[0] + ours.width * ours.gt[1], ours.gt[3], ours.width, ours.height);
    const auto w = run("GDAL_DEFAULT_WMS_CACHE_PATH=" + sh_quote(dir + "/wmscache") + " gdalwarp -q -overwrite -t_srs EPSG:32629 " + te +
                       " -r bilinear " + sh_quote(dir + "/tms.xml") + " " + sh_quote(dir + "/gdalwarp.tif"));
    INFO(w.err);
    REQUIRE(w.exit_code == 0);
    const auto ref = load_raster(dir + "/gdalwarp.tif");
    double diff = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < ref.data[0].size(); ++i) {
        // Compare where both have data (the missing 404 tile is black in both).
        const bool ours_data = ours.data[0][i] + ours.data[1][i] + ours.data[2][i] > 0;
        const bool ref_data = ref.data[0][i] + ref.data[1][i] + ref.data[2][i] > 0;
        if (!ours_data || !ref_data) continue;
        for (int c = 0; c < 3; ++c) diff += std::abs(ours.data[c][i] - ref.data[c][i]);
        n += 3;
    }
    REQUIRE(n > 200000);
    MESSAGE("xyz vs gdalwarp (TMS driver): mean absolute difference " << diff / double(n) << " over " << n << " samples");
    CHECK(diff / double(n) < 3.0);
}

TEST_CASE("512 px tiles, missing places and failing servers") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_cases");
    write_file(dir + "/s.toml", sources_toml(server, "RS", 18, 512) + "\n" + sources_toml(server, "BAD", 17, 256, "/f/503/999"));
    // robosat: two 512 px tiles stacked at z18 (x 69108, y 105091-105092)
    const auto r = run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") +
                       " --source RS --center -85.09392,33.57344 --side-m 100 --gsd 0.4 -o " + sh_quote(dir + "/rs.jpg"));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("250x250 px, EPSG:32616") != std::string::npos);
    CHECK(r.out.find("100.0% with data") != std::string::npos); // both 512 px tiles stitched
    const auto nowhere = run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") +
                             " --source RS --center 10,50 --side-m 120 --gsd 0.4 -o " + sh_quote(dir + "/none.jpg"));
    CHECK(nowhere.exit_code == 1);
    CHECK(nowhere.err.find("no tile of source RS covers this place") != std::string::npos);
    const auto bad = run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") +
                         " --source BAD --center -9.4551,38.8493 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/bad.jpg"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("HTTP 503 Service Unavailable (after 5 attempts)") != std::string::npos);
    CHECK(lines(bad.err).size() == 1);
    // Near a pole Web Mercator has no tiles, and a few metres there span every longitude: the
    // image fails at once with the reason (before: one object at -90 made 108,000 requests and
    // took 7.8 GB in a minute, and never ended).
    const auto polar = run("timeout 60 env " + fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") +
                           " --source RS --center 10,-89.999 --side-m 100 --gsd 0.4 -o " + sh_quote(dir + "/polar.jpg"));
    CHECK(polar.exit_code == 1);
    CHECK(polar.err.find("the tile reaches past 85.05 degrees of latitude, where Web Mercator and its XYZ tiles end") != std::string::npos);
    CHECK(lines(run("ls " + sh_quote(dir)).out).size() == 2); // s.toml and rs.jpg
}

TEST_CASE("a tile GDAL cannot decode fails its job with GDAL's reason, and that reason does not end an unrelated error line") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_broken_png");
    write_file(dir + "/s.toml", "[[source]]\nalias = \"BR\"\nkind = \"xyz\"\nurl = \"" + server.url("/broken-png/{z}/{x}/{y}.png") +
                                    "\"\ngsd = 0.6\nyear = 2021\n");
    const auto r = run("timeout 120 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/out") +
                       " --sources " + sh_quote(dir + "/s.toml") + " --limit 5 --attempts 1 -q");
    CHECK(r.exit_code == 1);
    // Before: "... no image was written (see ...) (GDAL: Error while reading row 47: libpng: Read Error)",
    // a tile's complaint kept by the process and added to the build's last line.
    CHECK(r.err == "skyscript-build: error: " + dir + "/out: no image was written (the failure reasons are in report.html)\n");
    const auto reasons = sql_column(dir + "/out/state.sqlite", "SELECT DISTINCT reason FROM jobs");
    REQUIRE_FALSE(reasons.empty());
    for (const auto& reason : reasons) CHECK_MESSAGE(reason.find("broken image (Error while reading row") != std::string::npos, reason);
}

TEST_CASE("a JPEG tile whose scan data is corrupt fails its job naming the tile (round 36)") {
    // Its markers and length are whole, so the engine's check passes it and the worker's decoder
    // fails: before, the reason was "broken JPEG image: Corrupt JPEG data: ..." without the tile.
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_corrupt_jpeg");
    const auto r = fetch_one_through(server, dir, "CJ", "/f/corrupt/999", "");
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.find("tile " + server.url("/f/corrupt/999/xyz/17/")) != std::string::npos);
    CHECK(r.err.find("broken JPEG image") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/t.jpg"));
}

TEST_CASE("a --timeout under a millisecond still bounds a transfer: libcurl's 0 is no limit (round 37)") {
    // Before: 0.0009 s became 0 ms, no timeout at all, and a server that answered and then sent
    // nothing held fetch-one until `timeout 60` killed it (exit 124).
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_tiny_timeout");
    const auto start = std::chrono::steady_clock::now();
    const auto r = fetch_one_through(server, dir, "ST", "/f/stall-120000/999", "--timeout 0.0009 --attempts 1");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(seconds < 30);
    CHECK(r.err.find("Timeout was reached") != std::string::npos);
}

TEST_CASE("a server whose Content-Length is short of its body: each attempt on a connection of its own, the reason the tile's (round 36)") {
    // Before: the retry reused the connection, read the 100 bytes left over as its reply's
    // status line, and stopped at "Unsupported protocol (after 2 attempts)" with --attempts 3.
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_short_length");
    const auto r = fetch_one_through(server, dir, "CL", "/f/clshort/999", "--attempts 3 --timeout 10");
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("Unsupported protocol") == std::string::npos);
    CHECK(r.err.find("truncated JPEG") != std::string::npos);
    CHECK(r.err.find("(after 3 attempts)") != std::string::npos);
}

TEST_CASE("an image encoded a band at a time is the JPEG of the whole image, with the same share of valid pixels") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto source = xyz_source("LM", server.url("/xyz/{z}/{x}/{y}.jpg"), 0.25, 17);
    // Inside one tile; across the corner where tile 62092/50162 is missing (404); across three
    // tile rows at a larger size (many bands, the window moving down the mosaic).
    const std::vector<std::pair<std::uint64_t, TileGrid>> grids = {{1, make_tile_grid(-9.455109, 38.849334, 60, 0.25)},
                                                                    {2, make_tile_grid(-9.456482, 38.850403, 200, 0.4)},
                                                                    {3, make_tile_grid(-9.455109, 38.849334, 500, 0.6)}};
    auto fetch = [&](int quality) {
        HttpEngine engine(HttpEngineOptions{});
        std::map<std::uint64_t, XyzImage> got;
        std::mutex m;
        fetch_xyz_images(source, grids, engine, 2, quality, [&](XyzImage&& r) {
            std::lock_guard lock(m);
            got[r.id] = std::move(r);
        });
        return got;
    };
    const auto whole = fetch(0), streamed = fetch(85);
    REQUIRE(whole.size() == 3);
    REQUIRE(streamed.size() == 3);
    for (const auto& [id, w] : whole) {
        INFO("grid " << id << ": " << w.error);
        const auto& s = streamed.at(id);
        REQUIRE(w.ok);
        REQUIRE(s.ok);
        CHECK(w.jpeg.empty());
        CHECK(s.image.rgb.empty()); // never held whole
        CHECK(s.jpeg == encode_jpeg(w.image, 85));
        CHECK(s.valid_fraction == w.image.valid_fraction());
        CHECK(w.valid_fraction == w.image.valid_fraction());
    }
    CHECK(whole.at(1).image.valid_fraction() == 1.0);
    CHECK(whole.at(2).image.valid_fraction() < 0.9); // the missing tile
    CHECK(whole.at(2).image.valid_fraction() > 0.3);
    CHECK(whole.at(3).image.height > 800); // 500 m: ~540 mosaic rows at z17 (0.93 m), three tile rows
}

TEST_CASE("xyz tiles across the antimeridian: the imagery on both sides of 180 degrees comes back") {
    // Tiles made here with GDAL on both sides of the antimeridian, each side its own colour:
    // west of it (tile column 2^z - 1) orange, east of it (column 0) blue. Two places: a
    // centre just west of 180 (south) and one just east of -180 (north).
    struct Place {
        double lon, lat;
    };
    for (const auto& [lon0, lat0] : {Place{179.9995, -16.5}, Place{-179.9995, 65.5}}) {
        INFO(lon0 << "," << lat0);
        const auto dir = fresh_dir("xyz_antimeridian");
        const auto grid = make_tile_grid(lon0, lat0, 3000, 10);
        REQUIRE(grid.box.crosses_antimeridian());
        const int z = xyz_zoom_for(10, (grid.box.north + grid.box.south) / 2, 256, 18);
        const auto tiles = xyz_covering_tiles(grid.box, z);
        GDALAllRegister();
        auto* mem = GetGDALDriverManager()->GetDriverByName("MEM");
        auto* jpeg = GetGDALDriverManager()->GetDriverByName("JPEG");
        bool both_sides[2] = {false, false};
        for (const auto& t : tiles) {
            const bool east = t.x < (1 << z) / 2;
            both_sides[east] = true;
            std::unique_ptr<GDALDataset> ds(mem->Create("", 256, 256, 3, GDT_Byte, nullptr));
            const int colour[3] = {east ? 30 : 230, east ? 90 : 140, east ? 220 : 40};
            std::vector<std::uint8_t> plane(256 * 256);
            for (int c = 0; c < 3; ++c) {
                for (std::size_t i = 0; i < plane.size(); ++i) plane[i] = static_cast<std::uint8_t>(colour[c] + int(i % 7)); // a little texture
                REQUIRE(ds->GetRasterBand(c + 1)->RasterIO(GF_Write, 0, 0, 256, 256, plane.data(), 256, 256, GDT_Byte, 0, 0) == CE_None);
            }
            const auto folder = dir + "/tiles/" + std::to_string(t.z) + "/" + std::to_string(t.x);
            std::filesystem::create_directories(folder);
            std::unique_ptr<GDALDataset> out(
                jpeg->CreateCopy((folder + "/" + std::to_string(t.y) + ".jpg").c_str(), ds.get(), FALSE, nullptr, nullptr, nullptr));
            REQUIRE(out);
        }
        REQUIRE(both_sides[0]);
        REQUIRE(both_sides[1]);
        const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", dir + "/tiles"});
        write_file(dir + "/s.toml", sources_toml(server, "AM", 18, 256));
        char centre[64];
        std::snprintf(centre, sizeof centre, "%.4f,%.1f", lon0, lat0);
        const auto r = run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") + " --source AM --center " + centre +
                           " --side-m 3000 --gsd 10 -o " + sh_quote(dir + "/am.tif"));
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("100.0% with data") != std::string::npos);
        const auto img = load_raster(dir + "/am.tif");
        REQUIRE(img.width == 300);
        // Each pixel has the colour of its side of the antimeridian (a pixel's width either
        // side of it is a blend).
        std::size_t west = 0, east = 0, wrong = 0;
        for (int y = 0; y < img.height; ++y)
            for (int x = 0; x < img.width; ++x) {
                double lon, lat;
                grid_to_lonlat(img.epsg, img.gt[0] + (x + 0.5) * img.gt[1], img.gt[3] + (y + 0.5) * img.gt[5], lon, lat);
                if (std::abs(std::abs(lon) - 180) < 4e-4) continue;
                const std::size_t i = static_cast<std::size_t>(y) * img.width + x;
                const bool blue = img.data[2][i] > 180 && img.data[0][i] < 80;
                const bool orange = img.data[0][i] > 190 && img.data[2][i] < 80;
                if (lon > 0) west += 1, wrong += !orange;
                else east += 1, wrong += !blue;
            }
        CHECK(west > 20000);
        CHECK(east > 20000);
        CHECK(wrong == 0);
        // `sources --check` asks for the tile at the centre of a coverage across 180 degrees,
        // there: before, at longitude 0 (west + east) / 2, where this server has none.
        char coverage[160];
        std::snprintf(coverage, sizeof coverage, "coverage = [%.9f, %.9f, %.9f, %.9f]\n", grid.box.west, grid.box.south, grid.box.east, grid.box.north);
        write_file(dir + "/c.toml", "[[source]]\nalias = \"AM\"\nkind = \"xyz\"\nurl = \"" + server.url("/xyz/{z}/{x}/{y}.jpg") +
                                        "\"\ngsd = 10\nmax_zoom = " + std::to_string(z) + "\n" + coverage);
        const auto check = run(sh_quote(binary()) + " sources --check --sources " + sh_quote(dir + "/c.toml"));
        INFO(check.out);
        CHECK(check.out.find("usable: fetched ") != std::string::npos);
        CHECK(check.out.find("no tile at the coverage centre") == std::string::npos);
    }
}

TEST_CASE("an xyz source's max_in_flight bounds its requests in flight") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles",
                                "--latency-ms", "400"}); // every allowed request counted before the first reply
    const auto dir = fresh_dir("xyz_in_flight");
    write_file(dir + "/s.toml", sources_toml(server, "LM", 17, 256) + "max_in_flight = 2\n");
    // 9 tiles (3 x 3 at z17), which the engine would otherwise send at once.
    const auto r = run(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") +
                       " --source LM --center -9.4551,38.8493 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/t.jpg"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    std::size_t tiles = 0;
    for (const auto& [path, hits] : stats["hits"].items()) tiles += path.rfind("/xyz/", 0) == 0;
    CHECK(tiles == 9);
    CHECK(stats["max_active"] == 2);
}

namespace {

// `command` run by sh, with its peak resident memory (the largest of the processes it
// waited for, ru_maxrss of RUSAGE_CHILDREN) in bytes.
std::pair<CommandResult, std::uint64_t> run_with_peak_rss(const std::string& command) {
    const auto r = run("/usr/bin/python3 -c " +
                       sh_quote("import resource, subprocess, sys\n"
                                "rc = subprocess.run(['sh', '-c', sys.argv[1]]).returncode\n"
                                "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                                "sys.exit(rc)") +
                       " " + sh_quote(command));
    const auto at = r.out.rfind("PEAK_RSS_KB ");
    REQUIRE(at != std::string::npos);
    return {r, std::stoull(r.out.substr(at + 12)) * 1024};
}

} // namespace

TEST_CASE("a tile server sending 100 MB or a gzip bomb: the tile fails with the reason, memory stays bounded") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_huge");
    // max_zoom 0: one tile (the world) per image, so each run asks for one body (a gsd of 10 km,
    // as a source of world tiles must say; fetch-one's own --gsd 1 picks the zoom).
    std::string toml;
    for (const auto& [alias, prefix] : std::vector<std::pair<std::string, std::string>>{
             {"BOMB", "/gzip-bomb/200000000"}, {"HUGE", "/big-chunked/100000000"}, {"LONG", "/big/100000000"}})
        toml += "[[source]]\nalias = \"" + alias + "\"\nkind = \"xyz\"\nurl = \"" + server.url(prefix + "/{z}/{x}/{y}.jpg") +
                "\"\ngsd = 10000\nmax_zoom = 0\n\n";
    write_file(dir + "/s.toml", toml + sources_toml(server, "LM", 17, 256));
    const auto fetch = [&](const std::string& alias) {
        return run_with_peak_rss(fetch_one_command() + " --sources " + sh_quote(dir + "/s.toml") + " --source " + alias +
                                 " --center -9.4551,38.8493 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/" + alias + ".jpg"));
    };
    const auto [normal, baseline] = fetch("LM"); // 9 real tiles
    INFO(normal.err);
    REQUIRE(normal.exit_code == 0);
    for (const std::string alias : {"BOMB", "HUGE", "LONG"}) {
        const auto [r, peak] = fetch(alias);
        INFO(alias << ": " << r.err);
        MESSAGE(alias << ": peak RSS " << peak / (1 << 20) << " MiB (a normal fetch: " << baseline / (1 << 20) << " MiB)");
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(": response body larger than 2097152 bytes\n") != std::string::npos); // 256 px tiles: 2 MiB
        CHECK(r.err.find("attempts") == std::string::npos);                                   // failed at once
        CHECK(peak < baseline + (32u << 20));
        CHECK_FALSE(std::filesystem::exists(dir + "/" + alias + ".jpg"));
    }
}

TEST_CASE("a token in an xyz URL is sent to the server, and appears nowhere else") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("xyz_token");
    const std::string secret = "SECRET123";
    const auto source = [&](const std::string& alias, const std::string& prefix) {
        return "[[source]]\nalias = \"" + alias + "\"\nkind = \"xyz\"\nurl = \"" + server.url(prefix + "/xyz/{z}/{x}/{y}.jpg") +
               "?access_token=" + secret + "&style=sat\"\ngsd = 1\nmax_zoom = 17\ncoverage = [-9.46, 38.84, -9.45, 38.86]\n\n";
    };
    write_file(dir + "/s.toml", source("OK", "") + source("FAIL", "/f/503/999") + source("GONE", "/f/html/999"));
    const auto fetch = [&](const std::string& alias) {
        return run(fetch_one_command() + " --attempts 2 --sources " + sh_quote(dir + "/s.toml") + " --source " + alias +
                   " --center -9.4551,38.8493 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/" + alias + ".jpg"));
    };
    const auto ok = fetch("OK");
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    const auto failed = fetch("FAIL");
    CHECK(failed.exit_code == 1);
    CHECK(failed.err.find("?access_token=REDACTED&style=sat: HTTP 503 Service Unavailable (after 2 attempts)") != std::string::npos);
    const auto html = fetch("GONE");
    CHECK(html.exit_code == 1);
    CHECK(html.err.find("access_token=REDACTED") != std::string::npos);
    const auto check = run(sh_quote(binary()) + " sources --check --sources " + sh_quote(dir + "/s.toml"));
    CHECK(check.out.find("usable: fetched " + server.url("/xyz/17/62093/50163.jpg?access_token=REDACTED&style=sat")) != std::string::npos);
    CHECK(check.err.find("source FAIL (xyz) is not usable: ") != std::string::npos);
    // A 200 HTML page (a login page) is no tile: the check takes the tile as the fetch does
    // (before: "usable: fetched", and then every job failed).
    CHECK(check.err.find("source GONE (xyz) is not usable: ") != std::string::npos);
    CHECK(check.out.find("usable: fetched " + server.url("/f/html")) == std::string::npos);
    for (const auto* r : {&ok, &failed, &html, &check}) {
        CHECK(r->out.find(secret) == std::string::npos);
        CHECK(r->err.find(secret) == std::string::npos);
    }
    // The server did get it: the token is redacted from what is written, not from requests.
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    std::size_t with_token = 0;
    for (const auto& [path, hits] : stats["hits"].items()) with_token += path.find("access_token=" + secret) != std::string::npos;
    CHECK(with_token >= 9);
    // The tile key, stored with every job and used by --reuse, holds no secret either.
    auto sources = load_sources_file(dir + "/s.toml");
    const auto key = skyscript::pipeline::make_tile_key(sources[0], make_tile_grid(-9.4551, 38.8493, 300, 1), 90);
    CHECK(key.find(secret) == std::string::npos);
    CHECK(key.find("access_token=REDACTED&style=sat") != std::string::npos);
    // A /vsicurl/ raster's signature stays out of its errors.
    const auto vsi = run(fetch_one_command() + " --raster " + sh_quote("/vsicurl/" + server.url("/xyz/missing.tif?sv=2021&sig=" + secret)) +
                         " --center 9.505,53.513 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/v.jpg"));
    INFO(vsi.err);
    CHECK(vsi.exit_code == 1);
    CHECK(vsi.err.find("sig=REDACTED") != std::string::npos);
    CHECK(vsi.err.find(secret) == std::string::npos);
}

TEST_CASE("a max_zoom whose finest pixels over the coverage are over twice the gsd is refused: its images would be upsampled while the meta says gsd (red-team round 29)") {
    const auto dir = fresh_dir("xyz-max-zoom-coarse");
    const auto with = [&](const std::string& zoom_gsd_coverage) {
        write_file(dir + "/s.toml", "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.jpg\"\nyear = 2020\n" + zoom_gsd_coverage);
        return dir + "/s.toml";
    };
    // max_zoom 0 with gsd 0.3: every image the one world tile (156 km a pixel at the equator), before.
    CHECK_THROWS_WITH_AS(load_sources_file(with("gsd = 0.3\nmax_zoom = 0\n")), doctest::Contains("max_zoom 0 gives pixels of"), std::exception);
    // z17 at Monaco: 0.86 m pixels, over twice a gsd of 0.3; fine for 0.6.
    CHECK_THROWS_WITH_AS(load_sources_file(with("gsd = 0.3\nmax_zoom = 17\ncoverage = [7.41, 43.72, 7.44, 43.75]\n")), doctest::Contains("upsampled"), std::exception);
    CHECK_NOTHROW(load_sources_file(with("gsd = 0.6\nmax_zoom = 17\ncoverage = [7.41, 43.72, 7.44, 43.75]\n")));
    CHECK_NOTHROW(load_sources_file(with("gsd = 0.3\nmax_zoom = 19\n")));
    CHECK_NOTHROW(load_sources_file(with("gsd = 0.3\nmax_zoom = 18\ntile_px = 512\ncoverage = [7.41, 43.72, 7.44, 43.75]\n")));
}

TEST_CASE("an xyz url of another scheme than http(s), or with a space, is refused as the sources are read, not by every job (red-team round 29)") {
    const auto dir = fresh_dir("xyz-url-scheme");
    for (const std::string url : {"file:///tmp/{z}/{x}/{y}.png", "gopher://127.0.0.1:70/{z}/{x}/{y}", "ftp://h/{z}/{x}/{y}.png", "/tiles/{z}/{x}/{y}.png",
                                  "http://h/my tiles/{z}/{x}/{y}.png"}) {
        CAPTURE(url);
        write_file(dir + "/s.toml", "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"" + url + "\"\ngsd = 0.3\nmax_zoom = 19\nyear = 2020\n");
        CHECK_THROWS_WITH_AS(load_sources_file(dir + "/s.toml"), doctest::Contains("url "), std::exception); // before: accepted
    }
    write_file(dir + "/s.toml", "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"HTTPS://h/{z}/{x}/{y}.png\"\ngsd = 0.3\nmax_zoom = 19\nyear = 2020\n");
    CHECK_NOTHROW(load_sources_file(dir + "/s.toml"));
}
