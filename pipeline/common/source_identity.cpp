#include "pipeline/common/source_identity.hpp"

#include "imagery/local_file_stamp.hpp"
#include "imagery/sha256_hex.hpp"
#include "imagery/source_kind.hpp"

#include <map>
#include <sstream>

namespace skyscript::pipeline {

namespace {

std::string sha256_hex16(const std::string& text) { return imagery::sha256_hex(text, 8); }

} // namespace

std::string raster_file_identity(const imagery::SourceConfig& s) {
    const auto file = s.kind->local_file(s);
    return file ? imagery::local_file_stamp(*file) : "";
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
    for (const auto& s : sources) out += s.alias + " settings=" + sha256_hex16(s.kind->settings_identity(s)) + " data=" + raster_file_identity(s) + "\n";
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
                if (s.alias == alias) path = s.kind->local_file(s).value_or("");
            return "the raster of source " + alias + ", " + path + ", changed (" + describe_data(old.second) + " -> " + describe_data(it->second.second) + ")";
        }
    }
    for (const auto& [alias, unused] : b)
        if (!a.count(alias)) return "source " + alias + " was added to the sources";
    return "the sources changed";
}

} // namespace skyscript::pipeline
