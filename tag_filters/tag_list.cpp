#include "tag_filters/tag_list.hpp"

#include "tag_filters/line_fields.hpp"
#include "tag_filters/utf8_text.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace skyscript::embedded {
std::string_view default_tags_tsv();
std::string_view tag_names_tsv();
}

namespace skyscript::tags {

std::string_view role_name(Role role) noexcept {
    switch (role) {
        case Role::feature: return "feature";
        case Role::attribute: return "attribute";
        case Role::deny: return "deny";
    }
    return "?";
}

namespace {

// Identity of an entry: deny entries live beside same-key features (conflict resolved by the matcher).
std::string entry_id(const TagEntry& e) {
    return e.key + "=" + e.value + (e.role == Role::deny ? "!" : "");
}

[[noreturn]] void fail(const std::string& source, std::size_t line_no, const std::string& what) {
    throw TagListError(source + ":" + std::to_string(line_no) + ": " + what);
}

} // namespace

TagList TagList::parse(std::string_view text, const std::string& source) {
    TagList list;
    std::unordered_map<std::string, std::size_t> seen;
    std::vector<std::size_t> lines; // each entry's line
    for_each_record(text, [&](std::size_t line_no, const std::vector<std::string_view>& fields) {
        if (fields.size() < 2) fail(source, line_no, "expected `key=value<TAB>role<TAB>max_gsd`, got one field");
        TagEntry entry;
        const auto role = fields[1];
        if (role == "feature") entry.role = Role::feature;
        else if (role == "attribute") entry.role = Role::attribute;
        else if (role == "deny") entry.role = Role::deny;
        else fail(source, line_no, "role must be feature, attribute or deny, got `" + std::string(role) + "`");

        const auto tag = fields[0];
        // Keys and values go into JSON, pickles and HTML: bytes that are not UTF-8 would match no OSM tag anyway.
        if (!is_valid_utf8(tag)) fail(source, line_no, "the entry is not valid UTF-8 (save the list as UTF-8)");
        // A NUL ends the text for every C string the entry reaches (`building=yes\0evil` was
        // listed as building=yes and matched no tag at all): no OSM tag holds one.
        if (tag.find('\0') != std::string_view::npos) fail(source, line_no, "the entry holds a NUL byte");
        const auto eq = tag.find('=');
        if (entry.role == Role::deny) {
            if (fields.size() != 2) fail(source, line_no, "a deny entry has two fields: key pattern and `deny`");
            // A deny takes a whole key: `building=yes deny` had denied every building, silently.
            if (eq != std::string_view::npos && tag.substr(eq + 1) != "*")
                fail(source, line_no, "a deny entry takes a key or a key prefix (`name`, `name:*`), not key=value: `" + std::string(tag) +
                                          "` would deny every `" + std::string(tag.substr(0, eq)) + "` tag");
            entry.key = std::string(tag.substr(0, eq));
            entry.value.assign(1, '*'); // not = "*": GCC 12 -O3 reports a false -Wrestrict on that
        } else {
            if (eq == std::string_view::npos || eq == 0 || eq + 1 == tag.size())
                fail(source, line_no, "expected key=value or key=*, got `" + std::string(tag) + "`");
            if (fields.size() != 3) fail(source, line_no, "expected 3 fields (key=value, role, max_gsd), got " + std::to_string(fields.size()));
            entry.key = std::string(tag.substr(0, eq));
            entry.value = std::string(tag.substr(eq + 1));
            const auto g = fields[2];
            double gsd = 0;
            auto [ptr, ec] = std::from_chars(g.data(), g.data() + g.size(), gsd);
            if (ec != std::errc{} || ptr != g.data() + g.size() || !(gsd > 0) || gsd > 1000)
                fail(source, line_no, "max_gsd must be a number of metres in (0, 1000], got `" + std::string(g) + "`");
            entry.max_gsd = gsd;
        }
        if (entry.key.empty()) fail(source, line_no, "empty key");
        const std::string id = entry_id(entry);
        if (auto it = seen.find(id); it != seen.end())
            fail(source, line_no, "duplicate entry `" + std::string(tag) + "` (first on line " + std::to_string(it->second) + ")");
        seen.emplace(id, line_no);
        entry.order = static_cast<std::uint32_t>(list.entries_.size());
        list.entries_.push_back(std::move(entry));
        lines.push_back(line_no);
    });
    // A feature or attribute whose key the same list denies could never apply: said, not kept
    // silently (red-team round 33: `building=yes feature` beside `building deny`). A +FILE's
    // entry lifting a built-in deny is merge()'s, not this. Looked up by key and by each of
    // its prefixes: a list of 300 K entries is no quadratic loop.
    std::unordered_map<std::string_view, std::size_t> exact, prefixes; // deny pattern (without its `*`) -> entry
    for (std::size_t d = 0; d < list.entries_.size(); ++d) {
        const auto& k = list.entries_[d].key;
        if (list.entries_[d].role != Role::deny) continue;
        if (k.back() == '*') prefixes.emplace(std::string_view(k).substr(0, k.size() - 1), d);
        else exact.emplace(k, d);
    }
    for (std::size_t e = 0; e < list.entries_.size() && !(exact.empty() && prefixes.empty()); ++e) {
        const auto& entry = list.entries_[e];
        if (entry.role == Role::deny) continue;
        const std::string_view key = entry.key;
        std::size_t denied_by = list.entries_.size();
        if (const auto x = exact.find(key); x != exact.end()) denied_by = x->second;
        for (std::size_t n = 0; denied_by == list.entries_.size() && n <= key.size(); ++n)
            if (const auto p = prefixes.find(key.substr(0, n)); p != prefixes.end()) denied_by = p->second;
        if (denied_by == list.entries_.size()) continue;
        const auto& deny = list.entries_[denied_by];
        fail(source, std::max(lines[denied_by], lines[e]),
             "`" + entry.key + "=" + entry.value + "` is listed as " + (entry.role == Role::feature ? "a feature" : "an attribute") + " (line " +
                 std::to_string(lines[e]) + ") and its key denied by `" + deny.key + "` (line " + std::to_string(lines[denied_by]) +
                 "): it could never apply; keep one of the two");
    }
    return list;
}

TagList TagList::builtin() {
    return parse(skyscript::embedded::default_tags_tsv(), "default_tags.tsv");
}

void TagList::merge(const TagList& other) {
    // An added feature/attribute entry lifts our deny of the same key.
    std::unordered_set<std::string> lifted;
    for (const auto& e : other.entries_)
        if (e.role != Role::deny) lifted.insert(e.key);
    std::erase_if(entries_, [&](const TagEntry& e) { return e.role == Role::deny && lifted.count(e.key); });

    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < entries_.size(); ++i) index.emplace(entry_id(entries_[i]), i);
    for (const auto& e : other.entries_) {
        if (auto it = index.find(entry_id(e)); it != index.end()) {
            entries_[it->second] = e; // keeps its position, takes the new role and GSD
        } else {
            index.emplace(entry_id(e), entries_.size());
            entries_.push_back(e);
        }
    }
    for (std::size_t i = 0; i < entries_.size(); ++i) entries_[i].order = static_cast<std::uint32_t>(i);
}

std::size_t TagList::count(Role role) const noexcept {
    std::size_t n = 0;
    for (const auto& e : entries_) n += e.role == role;
    return n;
}

std::string_view builtin_tag_names() { return skyscript::embedded::tag_names_tsv(); }

} // namespace skyscript::tags
