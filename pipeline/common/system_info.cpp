#include "pipeline/common/system_info.hpp"

#include "pipeline/common/cgroup_cpu_limit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <sys/resource.h>
#include <thread>

namespace skyscript::pipeline {

std::uint64_t peak_rss_bytes() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
}

int usable_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    int cores = ::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 ? CPU_COUNT(&set)
                                                                                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // A CPU quota of 2.5 cores keeps 3 threads busy: rounded up.
    // (Capped at the affinity's count before the cast: a quota may allow more cores than an int holds.)
    if (const auto limit = cgroup_cpu_limit()) cores = std::clamp(static_cast<int>(std::ceil(std::min(*limit, double(cores)) - 1e-9)), 1, cores);
    return cores;
}

std::uint64_t available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kb;
    std::string unit;
    while (in >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024;
    return 0;
}

std::uint64_t free_disk_bytes(const std::string& dir) {
    std::error_code ec;
    const auto info = std::filesystem::space(dir, ec);
    return ec ? 0 : info.available;
}

std::string human_bytes(std::uint64_t b) {
    char buf[32];
    if (b >= (1ULL << 30)) std::snprintf(buf, sizeof buf, "%.1f GB", double(b) / (1ULL << 30));
    else std::snprintf(buf, sizeof buf, "%.0f MB", double(b) / (1ULL << 20));
    return buf;
}

} // namespace skyscript::pipeline
