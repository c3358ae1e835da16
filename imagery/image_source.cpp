#include "imagery/image_source.hpp"

#include "imagery/source_kind.hpp"

#include <algorithm>
#include <ctime>
#include <thread>

namespace skyscript::imagery {

std::unique_ptr<ImageSource> open_image_source(const SourceConfig& config, const ImageSourceOptions& options) {
    return config.kind->open(config, options);
}

int image_workers(int asked) {
    return asked > 0 ? asked : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int network_image_workers(int asked) {
    return asked > 0 ? asked : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
}

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
