#include "pipeline/common/source_identity.hpp"

#include "imagery/local_file_stamp.hpp" // stamp_unchanged, describe_stamp_change
#include "imagery/sha256_hex.hpp"
#include "imagery/source_kind.hpp"

#include <map>
#include <sstream>

namespace skyscript::pipeline {

namespace {

std::string sha256_hex16(const std::string& text) { return imagery::sha256_hex(text, 8); }

// alias -> (settings, data), parsed back from sources_identity's lines; `order`: the aliases as listed.
std::map<std::string, std::pair<std::string, std::string>> parse(const std::string& identity, std::vector<std::string>* order = nullptr) {
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
        if (order) order->push_back(alias);
    }
    return out;
}

} // namespace

std::string sources_identity(const std::vector<imagery::SourceConfig>& sources) {
    std::string out;
    for (const auto& s : sources) out += s.alias + " settings=" + sha256_hex16(s.kind->settings_identity(s)) + " data=" + s.kind->data_stamp(s) + "\n";
    return out;
}

std::optional<std::string> sources_change(const std::string& before, const std::string& now,
                                          const std::vector<imagery::SourceConfig>& sources) {
    if (before == now) return std::nullopt;
    std::vector<std::string> order_before, order_now;
    const auto a = parse(before, &order_before), b = parse(now, &order_now);
    for (const auto& [alias, old] : a) {
        const auto it = b.find(alias);
        if (it == b.end()) return "source " + alias + " is no longer in the sources";
        if (old.first != it->second.first) return "the settings of source " + alias + " changed (URL, path, collection, bands, dates, GSD, ...)";
        if (!imagery::stamp_unchanged(old.second, it->second.second)) {
            std::string path;
            for (const auto& s : sources)
                if (s.alias == alias) path = s.kind->local_file(s).value_or("");
            return "the raster of source " + alias + (path.empty() ? "" : ", " + path + ",") + " changed (" + imagery::describe_stamp_change(old.second, it->second.second) + ")";
        }
    }
    for (const auto& [alias, unused] : b)
        if (!a.count(alias)) return "source " + alias + " was added to the sources";
    if (order_before != order_now) return "the order of the sources changed";
    return std::nullopt; // the same, as an older version stamped it (stamp_unchanged)
}

} // namespace skyscript::pipeline
