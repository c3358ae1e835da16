// bench/fetch: images per second from an xyz source on a loopback tile server with
// 50 ms added latency and 64 requests in flight, against
//   - the network ideal: in-flight / latency requests per second, over tiles per image;
//   - the CPU-bound rate: pixel workers (the fetch stage's default: one per core but one,
//     left to the HTTP engine) / CPU seconds per image (decode, stitch, warp, JPEG encode);
//   - one gdalwarp process per image on the same tiles, through GDAL's WMS (TMS) driver.
//
//   bench-fetch [--images N] [--in-flight 64] [--latency-ms 50] [--baseline K]

#include "imagery/source_config.hpp"
#include "test_support.hpp"
#include "imagery/tile_grid.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"
#include "imagery/sources/xyz/xyz_source.hpp"
#include "pipeline/common/system_info.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>

using namespace skyscript;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    int images = 1500, in_flight = 64, baseline = 12;
    double latency_ms = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--images")) images = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--in-flight")) in_flight = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--latency-ms")) latency_ms = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--baseline")) baseline = std::atoi(argv[i + 1]);
    }
    const std::string root = test::source_dir();
    const std::string build = std::string(SKYSCRIPT_BUILD_DIR);
    test::ServerProcess server({build + "/bench-tile-server", "--tiles", root + "/tests/data/tiles/17", "--latency-ms",
                                std::to_string(latency_ms)});

    const auto source = imagery::xyz_source("BENCH", server.url("/{z}/{x}/{y}.jpg"), 0.6, 19);

    // Point-object tiles as the planner makes them: 384 px at 0.6 m, random places around Lisbon.
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> lon(-9.6, -9.0), lat(38.6, 39.0);
    std::vector<std::pair<std::uint64_t, imagery::TileGrid>> grids;
    for (int i = 0; i < images; ++i) grids.emplace_back(i, imagery::make_tile_grid(lon(rng), lat(rng), 384 * 0.6, 0.6));

    imagery::HttpEngineOptions options;
    options.max_in_flight = in_flight;
    imagery::HttpEngine engine(options);
    const unsigned cores = static_cast<unsigned>(pipeline::usable_cores()); // the cores this process may run on
    std::atomic<int> ok{0}, failed{0};
    std::mutex m;
    double cpu_total = 0;
    const auto start = Clock::now();
    const int workers = imagery::network_image_workers(0, static_cast<int>(cores)); // the fetch stage's default
    // Each image encoded as it is made, as the fetch stage has them (its CPU is in cpu_seconds).
    imagery::fetch_xyz_images(source, grids, engine, workers, 90, [&](imagery::XyzImage&& r) {
        if (!r.ok) {
            ++failed;
            return;
        }
        std::lock_guard lock(m);
        cpu_total += r.cpu_seconds;
        ok += r.jpeg.size() > 0;
    });
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    const double rate = ok / wall;
    const double tiles_per_image = double(engine.stats().requests) / images;
    const double network_ideal = in_flight / (latency_ms / 1000) / tiles_per_image;
    const double cpu_per_image = cpu_total / std::max(1, ok.load());
    const double cpu_bound = workers / cpu_per_image;
    const double ceiling = std::min(network_ideal, cpu_bound);

    // Baseline: one gdalwarp process per image through GDAL's TMS driver, same server.
    const auto dir = test::fresh_dir("bench_fetch");
    test::write_file(dir + "/tms.xml", "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>" + server.url("/${z}/${x}/${y}.jpg") +
                                           "</ServerUrl></Service><DataWindow><UpperLeftX>-20037508.34</UpperLeftX>"
                                           "<UpperLeftY>20037508.34</UpperLeftY><LowerRightX>20037508.34</LowerRightX>"
                                           "<LowerRightY>-20037508.34</LowerRightY><TileLevel>19</TileLevel><TileCountX>1</TileCountX>"
                                           "<TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
                                           "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>3</BandsCount></GDAL_WMS>");
    const auto b0 = Clock::now();
    int baseline_ok = 0;
    for (int i = 0; i < baseline; ++i) {
        const auto& g = grids[static_cast<std::size_t>(i)].second;
        char te[200];
        std::snprintf(te, sizeof te, "-te %.3f %.3f %.3f %.3f -ts %d %d", g.geotransform[0], g.geotransform[3] - g.height * g.gsd,
                      g.geotransform[0] + g.width * g.gsd, g.geotransform[3], g.width, g.height);
        const auto r = test::run("gdalwarp -q -overwrite -t_srs " + g.crs() + " " + te + " -r bilinear " + dir + "/tms.xml " + dir + "/b.tif");
        baseline_ok += r.exit_code == 0;
    }
    const double baseline_rate = baseline_ok / std::chrono::duration<double>(Clock::now() - b0).count();

    std::printf("bench/fetch: %d images of 384x384 px (0.6 m), xyz source on loopback, %.0f ms latency, %d in flight, %u cores\n",
                images, latency_ms, in_flight, cores);
    std::printf("  ours            %8.1f images/s  (%d ok, %d failed, %.2f tiles/image, %.1f s)\n", rate, ok.load(), failed.load(),
                tiles_per_image, wall);
    std::printf("  scheduling      %8.2f steps/request (%llu steps for %llu requests; flat however many wait)\n",
                double(engine.stats().scheduling_steps) / double(std::max<std::uint64_t>(1, engine.stats().requests)),
                static_cast<unsigned long long>(engine.stats().scheduling_steps), static_cast<unsigned long long>(engine.stats().requests));
    std::printf("  network ideal   %8.1f images/s  (%d / %.3f s / %.2f tiles)\n", network_ideal, in_flight, latency_ms / 1000, tiles_per_image);
    std::printf("  CPU-bound       %8.1f images/s  (%d workers / %.2f ms CPU per image: decode, stitch, warp, encode)\n", cpu_bound, workers,
                cpu_per_image * 1000);
    std::printf("  ratio to the lesser ceiling: %.2f   (goal >= 0.90)\n", rate / ceiling);
    std::printf("  gdalwarp/image  %8.2f images/s  (%d processes through GDAL's TMS driver)\n", baseline_rate, baseline_ok);
    std::printf("  ratio to gdalwarp: %.1fx   (goal >= 20x)\n", rate / baseline_rate);
    return failed == 0 ? 0 : 1;
}
