#include "imagery/image_source.hpp"

#include "imagery/source_kind.hpp"

#include <algorithm>
#include <ctime>
#include <thread>

namespace skyscript::imagery {

std::unique_ptr<ImageSource> open_image_source(const SourceConfig& config, const ImageSourceOptions& options) {
    return config.kind->open(config, options);
}

namespace {

int cores_or_machine(int cores) { return cores > 0 ? cores : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

} // namespace

int image_workers(int asked, int cores) { return asked > 0 ? asked : cores_or_machine(cores); }

int network_image_workers(int asked, int cores) { return asked > 0 ? asked : std::max(1, cores_or_machine(cores) - 1); }

std::vector<std::pair<std::uint64_t, TileGrid>> tile_grids(std::span<const TileJob> jobs) {
    std::vector<std::pair<std::uint64_t, TileGrid>> grids;
    grids.reserve(jobs.size());
    for (const auto& j : jobs) grids.emplace_back(j.id, j.grid);
    return grids;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

} // namespace skyscript::imagery
