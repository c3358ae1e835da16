#include "pipeline/common/source_identity.hpp"

#include "imagery/url_redaction.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <map>
#include <sstream>

#include <sys/stat.h>

namespace skyscript::pipeline {

namespace {

std::string sha256_hex16(const std::string& text) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < 8 && i < len; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
    return out;
}

std::string settings_of(const imagery::SourceConfig& s) {
    std::ostringstream o;
    o.precision(17);
    // Tokens in a URL change without changing pixels (and their digest is kept out of OUT).
    o << imagery::kind_name(s.kind) << '\n' << imagery::redact_url(s.path) << '\n' << imagery::redact_url(s.url) << '\n' << s.collection << '\n' << s.cloud_property << '\n';
    o << s.gsd << '\n' << s.year.value_or(0) << '\n' << s.date_start << ',' << s.date_end << '\n';
    if (s.coverage_given) o << s.coverage.west << ',' << s.coverage.south << ',' << s.coverage.east << ',' << s.coverage.north;
    o << '\n';
    for (const auto& b : s.bands) o << b << ',';
    o << '\n';
    if (s.stretch) o << s.stretch->first << ',' << s.stretch->second;
    o << '\n' << s.tms << ',' << s.tile_px << ',' << s.max_zoom;
    return o.str();
}

} // namespace

std::string raster_file_identity(const imagery::SourceConfig& s) {
    if (s.kind != imagery::SourceKind::gdal || s.path.starts_with("/vsi") || s.path.find("://") != std::string::npos ||
        s.path.starts_with("<"))
        return "";
    struct stat st{};
    if (::stat(s.path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_size) + ":" + std::to_string(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec);
}

namespace {

// alias -> (settings, data), parsed back from sources_identity's lines.
std::map<std::string, std::pair<std::string, std::string>> parse(const std::string& identity) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    std::istringstream in(identity);
    std::string alias, settings, data;
    for (std::string line; std::getline(in, line);) {
        std::istringstream l(line);
        l >> alias >> settings;
        std::getline(l, data);
        if (!data.empty() && data[0] == ' ') data.erase(0, 1);
        if (data.starts_with("data=")) data.erase(0, 5);
        out[alias] = {settings, data};
    }
    return out;
}

std::string describe_data(const std::string& data) {
    if (data == "missing" || data.empty()) return data.empty() ? "not a local file" : "missing";
    const auto colon = data.find(':');
    if (colon == std::string::npos) return data;
    return data.substr(0, colon) + " bytes, modified at " + data.substr(colon + 1) + " ns";
}

} // namespace

std::string sources_identity(const std::vector<imagery::SourceConfig>& sources) {
    std::string out;
    for (const auto& s : sources) out += s.alias + " settings=" + sha256_hex16(settings_of(s)) + " data=" + raster_file_identity(s) + "\n";
    return out;
}

std::optional<std::string> sources_change(const std::string& before, const std::string& now,
                                          const std::vector<imagery::SourceConfig>& sources) {
    if (before == now) return std::nullopt;
    const auto a = parse(before), b = parse(now);
    for (const auto& [alias, old] : a) {
        const auto it = b.find(alias);
        if (it == b.end()) return "source " + alias + " is no longer in the sources";
        if (old.first != it->second.first) return "the settings of source " + alias + " changed (URL, path, collection, bands, dates, GSD, ...)";
        if (old.second != it->second.second) {
            std::string path;
            for (const auto& s : sources)
                if (s.alias == alias) path = s.path;
            return "the raster of source " + alias + ", " + path + ", changed (" + describe_data(old.second) + " -> " + describe_data(it->second.second) + ")";
        }
    }
    for (const auto& [alias, unused] : b)
        if (!a.count(alias)) return "source " + alias + " was added to the sources";
    return "the sources changed";
}

} // namespace skyscript::pipeline
