#include "imagery/local_file_stamp.hpp"

#include "imagery/sha256_hex.hpp"

#include <sys/stat.h>

#include <charconv>
#include <utility>

namespace skyscript::imagery {

std::string local_file_stamp(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_size) + ":" + std::to_string(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec);
}

std::string files_stamp(const std::string& main, const std::vector<std::string>& files) {
    std::string stamp = main.empty() ? "" : local_file_stamp(main), others;
    std::size_t n = 0;
    for (const auto& f : files) {
        if (f == main) continue;
        others += f + '\t' + local_file_stamp(f) + '\n'; // a tab or newline in a name is the name's own: the digest only compares
        ++n;
    }
    if (n) stamp += (stamp.empty() ? "+" : " +") + std::to_string(n) + " files " + sha256_hex(others, 8);
    return stamp;
}

namespace {

// "SIZE:MTIME_NS" or "missing", and " +N files HEX" or "".
std::pair<std::string, std::string> split(const std::string& stamp) {
    const auto plus = stamp.find('+');
    if (plus == std::string::npos) return {stamp, ""};
    return {stamp.substr(0, plus == 0 ? 0 : plus - 1), stamp.substr(plus + 1)};
}

std::string describe_main(const std::string& main) {
    if (main.empty() || main == "missing") return main.empty() ? "no file" : "missing";
    const auto colon = main.find(':');
    if (colon == std::string::npos) return main;
    return main.substr(0, colon) + " bytes, modified at " + main.substr(colon + 1) + " ns";
}

std::size_t count_of(const std::string& others) {
    std::size_t n = 0;
    std::from_chars(others.data(), others.data() + others.size(), n); // 0 for what is not a count
    return n;
}

} // namespace

bool stamp_unchanged(const std::string& before, const std::string& now) {
    if (before == now) return true;
    return before.find('+') == std::string::npos && before == split(now).first;
}

std::string describe_stamp_change(const std::string& before, const std::string& now) {
    const auto [main_before, others_before] = split(before);
    const auto [main_now, others_now] = split(now);
    if (main_before != main_now) return describe_main(main_before) + " -> " + describe_main(main_now);
    const auto n_before = count_of(others_before), n_now = count_of(others_now);
    if (n_before != n_now)
        return "GDAL read " + std::to_string(n_before) + " other files for it (VRT members, overviews, sidecars), now " + std::to_string(n_now);
    return "one of the " + std::to_string(n_now) + " other files GDAL reads for it is not as it was: a VRT member, an overview or a sidecar (an .aux.xml that gdalinfo -stats or QGIS wrote counts too)";
}

} // namespace skyscript::imagery
