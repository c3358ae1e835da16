#include "pipeline/common/source_identity.hpp"

#include "imagery/local_file_stamp.hpp" // stamp_unchanged, describe_stamp_change
#include "imagery/sha256_hex.hpp"
#include "imagery/source_key_text.hpp"
#include "imagery/source_kind.hpp"

#include <map>
#include <sstream>

namespace skyscript::pipeline {

namespace {

std::string sha256_hex16(const std::string& text) { return imagery::sha256_hex(text, 8); }

// Six hex digits a line of the settings text: enough to tell which setting changed, too few
// to stand for the whole (settings= does that).
std::string line_digests(const std::string& settings_text) {
    std::string out;
    std::istringstream in(settings_text);
    for (std::string line; std::getline(in, line);) {
        if (!out.empty()) out += '.';
        out += imagery::sha256_hex(line, 3);
    }
    return out;
}

struct Entry {
    std::string settings, lines, data; // lines: "" when an older version made the identity
};

// alias -> entry, parsed back from sources_identity's lines; `order`: the aliases as listed.
std::map<std::string, Entry> parse(const std::string& identity, std::vector<std::string>* order = nullptr) {
    std::map<std::string, Entry> out;
    std::istringstream in(identity);
    for (std::string line; std::getline(in, line);) {
        std::istringstream l(line);
        std::string alias, data;
        Entry e;
        l >> alias >> e.settings;
        std::getline(l, data);
        if (!data.empty() && data[0] == ' ') data.erase(0, 1);
        if (data.starts_with("lines=")) {
            const auto space = data.find(' ');
            e.lines = data.substr(6, space == std::string::npos ? std::string::npos : space - 6);
            data.erase(0, space == std::string::npos ? data.size() : space + 1);
        }
        if (data.starts_with("data=")) data.erase(0, 5);
        e.data = std::move(data);
        out[alias] = std::move(e);
        if (order) order->push_back(alias);
    }
    return out;
}

// The settings whose lines differ, named as imagery::source_identity_line_names says; "" when
// an identity has no line digests (an older version's) or they have another count.
std::string changed_settings(const std::string& before, const std::string& now) {
    if (before.empty() || now.empty()) return "";
    const auto split = [](const std::string& text) {
        std::vector<std::string> parts;
        std::istringstream in(text);
        for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
        return parts;
    };
    const auto a = split(before), b = split(now);
    if (a.size() != b.size()) return "";
    std::string names;
    for (std::size_t i = 0; i < a.size() && i < imagery::source_identity_line_names.size(); ++i)
        if (a[i] != b[i]) {
            if (!names.empty()) names += "; ";
            names += imagery::source_identity_line_names[i];
        }
    return names;
}

} // namespace

std::string sources_identity(const std::vector<imagery::SourceConfig>& sources) {
    std::string out;
    for (const auto& s : sources) {
        const auto settings = s.kind->settings_identity(s);
        out += s.alias + " settings=" + sha256_hex16(settings) + " lines=" + line_digests(settings) + " data=" + s.kind->data_stamp(s) + "\n";
    }
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
        if (old.settings != it->second.settings) {
            const auto which = changed_settings(old.lines, it->second.lines);
            return "the settings of source " + alias + " changed (" + (which.empty() ? "URL, path, collection, bands, dates, GSD, ..." : which) + ")";
        }
        if (!imagery::stamp_unchanged(old.data, it->second.data)) {
            std::string path;
            for (const auto& s : sources)
                if (s.alias == alias) path = s.kind->local_file(s).value_or("");
            return "the raster of source " + alias + (path.empty() ? "" : ", " + path + ",") + " changed (" + imagery::describe_stamp_change(old.data, it->second.data) + ")";
        }
    }
    for (const auto& [alias, unused] : b)
        if (!a.count(alias)) return "source " + alias + " was added to the sources";
    if (order_before != order_now) return "the order of the sources changed";
    return std::nullopt; // the same, as an older version stamped it (stamp_unchanged)
}

} // namespace skyscript::pipeline
