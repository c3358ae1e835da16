#include "pipeline/common/system_info.hpp"


#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>

namespace skyscript::pipeline {

std::uint64_t peak_rss_bytes() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
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
