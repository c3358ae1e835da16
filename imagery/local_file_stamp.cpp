#include "imagery/local_file_stamp.hpp"

#include "imagery/sha256_hex.hpp"

#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>
#include <system_error>
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

// "SIZE:MTIME_NS" read; nullopt for "missing", "" or what is not one.
struct MainStamp {
    long long size = 0, ns = 0;
};
std::optional<MainStamp> parse_main(const std::string& main) {
    const auto colon = main.find(':');
    if (colon == std::string::npos) return std::nullopt;
    MainStamp s;
    const auto a = std::from_chars(main.data(), main.data() + colon, s.size);
    const auto b = std::from_chars(main.data() + colon + 1, main.data() + main.size(), s.ns);
    if (a.ec != std::errc() || a.ptr != main.data() + colon || b.ec != std::errc() || b.ptr != main.data() + main.size()) return std::nullopt;
    return s;
}

constexpr long long ns_per_second = 1000000000LL;

// The second a time in nanoseconds falls in (rounded down, before 1970 too).
long long second_of(long long ns) { return ns / ns_per_second - (ns % ns_per_second < 0 ? 1 : 0); }

// The same file's stamp, its time since kept to the second only: a copy restored by tar,
// `scp -p`, `cp -p` onto a file system of whole seconds, or a backup drops the fraction; the
// size and the second still say the bytes are the ones planned. Not the other way: a time with
// a fraction now, where it was whole, is a write since (a same-size rewrite in that second).
bool same_main(const std::string& before, const std::string& now) {
    if (before == now) return true;
    const auto b = parse_main(before), n = parse_main(now);
    if (!b || !n || b->size != n->size) return false;
    return second_of(b->ns) == second_of(n->ns) && n->ns % ns_per_second == 0;
}

std::string describe_main(const std::string& main) {
    if (main.empty() || main == "missing") return main.empty() ? "no file" : "missing";
    const auto s = parse_main(main);
    if (!s) return main;
    const long long secs = second_of(s->ns);
    const long long frac = s->ns - secs * ns_per_second;
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    char when[64];
    if (!::gmtime_r(&t, &tm) || std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm) == 0) return main;
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%09lldZ", frac);
    return std::to_string(s->size) + " bytes, modified " + when + fraction;
}

std::size_t count_of(const std::string& others) {
    std::size_t n = 0;
    std::from_chars(others.data(), others.data() + others.size(), n); // 0 for what is not a count
    return n;
}

} // namespace

bool stamp_unchanged(const std::string& before, const std::string& now) {
    if (before == now) return true;
    const auto [main_before, others_before] = split(before);
    const auto [main_now, others_now] = split(now);
    // An older version's stamp is of the raster's own file alone: taken for what it saw.
    return (others_before == others_now || before.find('+') == std::string::npos) && same_main(main_before, main_now);
}

std::string describe_stamp_change(const std::string& before, const std::string& now) {
    const auto [main_before, others_before] = split(before);
    const auto [main_now, others_now] = split(now);
    if (!same_main(main_before, main_now)) return describe_main(main_before) + " -> " + describe_main(main_now);
    const auto n_before = count_of(others_before), n_now = count_of(others_now);
    if (n_before != n_now)
        return "GDAL read " + std::to_string(n_before) + " other files for it (VRT members, overviews, sidecars), now " + std::to_string(n_now);
    return "one of the " + std::to_string(n_now) + " other files GDAL reads for it is not as it was: a VRT member, an overview or a sidecar (an .aux.xml that gdalinfo -stats or QGIS wrote counts too)";
}

} // namespace skyscript::imagery
