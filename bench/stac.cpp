// bench/stac: a build's fetch stage (`skyscript-build fetch` on a planned OUT) from a stac
// source against the loopback STAC API of tests/stac_api_server.py, which serves the item
// searches and the COGs (range requests) with LATENCY added to every answer. The imagery: a
// 0.5 m rendering of Monaco (tests/render_osm_raster.sh) with noise added (so its JPEG blocks
// weigh what an aerial photo's do, some 500 KB each (DEFLATE), and the COGs do not fit GDAL's block cache
// as a flat rendering would), cut into four COG items (quadrants, so tiles on a seam are
// mosaicked from two). The anchor: the same planned tiles from a gdal
// source reading the same four COGs as local files (a VRT), the fastest way GDAL does it.
//
// The network ideal: with IN_FLIGHT requests waiting LATENCY each, a source can make at most
// IN_FLIGHT / LATENCY requests a second; at R requests an image that is IN_FLIGHT / (LATENCY x R)
// images a second. The CPU's: the anchor's images/s (the same reads and warps without the
// network). Prints images/s and its ratio to the lower of the two (goal >= 0.8), requests per
// image (searches, COG reads and HEADs; goal <= 3 at 384 px), and what the loopback server's
// own CPU took from the two cores the build runs on.
//
//   bench-stac [--latency-ms 200] [--in-flight 8] [--limit 1000]   (plan's --limit; 0: all of Monaco, 3,844 tiles)

#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace skyscript;
using json = nlohmann::json;

namespace {

void require(const test::CommandResult& r, const std::string& what) { test::exit_unless_ok(r, "bench/stac", what); }

struct Fetched {
    long long planned = 0, fetched = 0;
    double seconds = 0, mean_px = 0;
};

// plan + fetch of OUT (its catalog copied from `catalog_dir`) with `sources`; the fetch stage's own time.
Fetched plan_and_fetch(const std::string& bin, const std::string& catalog_dir, const std::string& out, const std::string& sources, int limit) {
    require(test::run("rm -rf " + test::sh_quote(out) + " && cp -r " + test::sh_quote(catalog_dir) + " " + test::sh_quote(out)), "copy");
    const auto s = " --sources " + test::sh_quote(sources);
    require(test::run(bin + " plan -q " + test::sh_quote(out) + s + (limit > 0 ? " --limit " + std::to_string(limit) : "")), "plan");
    const auto db = out + "/state.sqlite";
    Fetched f;
    f.planned = test::sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'planned'");
    require(test::run(bin + " fetch -q " + test::sh_quote(out) + s), "fetch");
    f.fetched = test::sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'fetched'");
    f.seconds = std::stod(test::sql_column(db, "SELECT seconds FROM stages WHERE stage = 'fetch'")[0]);
    f.mean_px = std::stod(test::sql_column(db, "SELECT avg((width + height) / 2.0) FROM jobs WHERE status = 'fetched'")[0]);
    return f;
}

} // namespace

int main(int argc, char** argv) {
    double latency_ms = 200;
    int in_flight = 8, limit = 1000;
    for (int i = 1; i + 1 < argc; ++i) {
        if (!std::strcmp(argv[i], "--latency-ms")) latency_ms = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--in-flight")) in_flight = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--limit")) limit = std::atoi(argv[++i]);
    }
    const std::string root = test::source_dir(), bin = std::string(SKYSCRIPT_BUILD_DIR) + "/skyscript-build";
    const auto work = test::fresh_dir("bench_stac");
    const std::string box = "7.405,43.723,7.44,43.753", catalog = work + "/catalog";
    require(test::run(bin + " extract -q " + test::sh_quote(root + "/tests/data/osm/monaco-latest.osm.pbf") + " -o " + test::sh_quote(catalog)),
            "extract");
    require(test::run(test::sh_quote(root + "/tests/render_osm_raster.sh") + " " + test::sh_quote(catalog + "/catalog.gpkg") + " " +
                      test::sh_quote(work + "/render.tif") + " " + box + " 0.5"),
            "render");

    require(test::run("gdal_calc.py --quiet -A " + test::sh_quote(work + "/render.tif") +
                      " --allBands=A --calc='clip(A.astype(int16) + random.randint(-24, 25, A.shape), 0, 255)' --type=Byte --outfile=" +
                      test::sh_quote(work + "/noisy.tif")),
            "noise");
    // Four items, the quadrants of the rendering, meeting at 7.4225 E, 43.738 N.
    const double w = 7.405, e = 7.44, s = 43.723, n = 43.753, cx = 7.4225, cy = 43.738;
    json items = json::array();
    std::string vrt_inputs;
    int q = 0;
    for (const auto& [x0, x1] : {std::pair{w, cx}, std::pair{cx, e}})
        for (const auto& [y0, y1] : {std::pair{s, cy}, std::pair{cy, n}}) {
            const auto name = std::string("q").append(std::to_string(++q)).append(".tif"); // (GCC 12 -Wrestrict misfires on "q" + to_string)
            char win[200];
            std::snprintf(win, sizeof win, "%.6f %.6f %.6f %.6f", x0, y1, x1, y0);
            require(test::run("gdal_translate -q -of COG -co COMPRESS=DEFLATE -colorinterp red,green,blue -projwin_srs EPSG:4326 -projwin " + std::string(win) + " " +
                              test::sh_quote(work + "/noisy.tif") + " " + test::sh_quote(work + "/" + name)),
                    "COG " + name);
            vrt_inputs.append(" ").append(test::sh_quote(work + "/" + name));
            items.push_back({{"type", "Feature"}, {"stac_version", "1.0.0"}, {"id", "monaco-q" + std::to_string(q)}, {"collection", "render"},
                             {"geometry", {{"type", "Polygon"}, {"coordinates", {{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}}},
                             {"bbox", {x0, y0, x1, y1}},
                             {"properties", {{"datetime", "2023-04-05T10:11:00Z"}}},
                             {"assets", {{"visual", {{"href", "{base}/cog/" + name}, {"type", "image/tiff; application=geotiff; profile=cloud-optimized"}}}}},
                             {"links", json::array()}});
        }
    test::write_file(work + "/items.json", items.dump());
    require(test::run("gdalbuildvrt -q " + test::sh_quote(work + "/local.vrt") + vrt_inputs), "gdalbuildvrt");

    test::ServerProcess server({"/usr/bin/python3", root + "/tests/stac_api_server.py", "--items", work + "/items.json", "--cog-dir", work,
                                "--latency-ms", std::to_string(latency_ms)});
    test::write_file(work + "/stac.toml", "[[source]]\nalias = \"OPEN\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                              "\"\ncollection = \"render\"\nassets = [\"visual\"]\ngsd = 0.5\nmax_in_flight = " +
                                              std::to_string(in_flight) + "\n");
    test::write_file(work + "/local.toml", "[[source]]\nalias = \"LOCAL\"\nkind = \"gdal\"\npath = \"" + work + "/local.vrt\"\ngsd = 0.5\nyear = 2023\n");

    const auto stac = plan_and_fetch(bin, catalog, work + "/out-stac", work + "/stac.toml", limit);
    const auto st = json::parse(test::http_get(server.url("/stats")));
    const auto& by_kind = st["requests"];
    const long long searches = st["searches"].size(), cog = by_kind.value("cog", 0LL) + by_kind.value("cog_head", 0LL), head = by_kind.value("cog_head", 0LL);
    long long total = 0;
    for (const auto& [kind, c] : by_kind.items()) total += c.get<long long>();
    const auto local = plan_and_fetch(bin, catalog, work + "/out-local", work + "/local.toml", limit);

    const double rate = stac.fetched / stac.seconds, anchor = local.fetched / local.seconds;
    const double per_image = stac.fetched ? double(total) / double(stac.fetched) : 0;
    const double ideal = in_flight / (latency_ms / 1000) / per_image, bound = std::min(ideal, anchor);
    std::printf("bench/stac: skyscript-build fetch, %lld planned tiles of Monaco (0.5 m, mean %.0f px), a stac source with max_in_flight %d\n"
                "  against the loopback STAC API + COG server with %.0f ms added to every answer; 4 COG items\n",
                stac.planned, stac.mean_px, in_flight, latency_ms);
    std::printf("  stac fetch       %8.1f images/s  (%lld fetched in %.1f s)\n", rate, stac.fetched, stac.seconds);
    std::printf("  requests/image   %8.3f          (%lld requests: %lld searches, %lld COG reads of which %lld HEAD, %lld others; goal <= 3)\n",
                per_image, total, searches, cog, head, total - searches - cog);
    std::printf("  network ideal    %8.1f images/s  (%d in flight / %.0f ms / %.3f requests an image)\n", ideal, in_flight, latency_ms, per_image);
    std::printf("  anchor (CPU)     %8.1f images/s  (gdal on the same COGs as local files: %lld fetched in %.1f s)\n", anchor, local.fetched,
                local.seconds);
    std::printf("  ratio to the lower, the %s: %.2f   (goal >= 0.80)\n", ideal < anchor ? "network ideal" : "anchor", rate / bound);
    std::printf("  the server's CPU %8.2f s        (of the two cores' %.1f s during the stac fetch)\n", st["cpu_seconds"].get<double>(),
                2 * stac.seconds);
    return stac.fetched == stac.planned && local.fetched == local.planned ? 0 : 1;
}
