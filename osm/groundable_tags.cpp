#include "osm/groundable_tags.hpp"

#include "tag_filters/utf8_text.hpp"

#include <array>
#include <cstring>

namespace skyscript::osm {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (c < 0x20) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
            ++i;
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (auto n = tags::utf8_sequence_length(s, i)) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    out.push_back('"');
}

namespace {

// Whether a tag before `tag` in the list has its key. OSM's API allows a key once an object,
// but a PBF may hold it twice: the first value is the object's (libosmium's lookups, and so
// the area rules, take it), and a later one is left out of the row, or its JSON would hold the
// key twice (Python's json keeps the last, SQLite's the first) and its focus could be a value
// that the object's other readers never see. Asked only of tags the vocabulary matches.
bool repeats_a_key(const osmium::TagList& tags, const osmium::Tag& tag) {
    for (const auto& earlier : tags) {
        if (&earlier == &tag) return false;
        if (!std::strcmp(earlier.key(), tag.key())) return true;
    }
    return false;
}

} // namespace

bool select_groundable_tags(const osmium::TagList& tags, const tags::TagMatcher& matcher, CatalogRow& row) {
    // Most tagged objects are not catalog objects: decide before building any string. The
    // first tags' entries are kept for the second loop (objects rarely have more).
    constexpr std::size_t kept = 32;
    std::array<const tags::TagEntry*, kept> entries;
    const tags::TagEntry* focus = nullptr;
    const char* focus_value = nullptr;
    std::size_t i = 0;
    for (const auto& tag : tags) {
        const auto* e = matcher.find(tag.key(), tag.value());
        if (e && repeats_a_key(tags, tag)) e = nullptr;
        if (i < kept) entries[i] = e;
        ++i;
        if (!e || e->role != tags::Role::feature) continue;
        if (!focus || e->max_gsd > focus->max_gsd || (e->max_gsd == focus->max_gsd && e->order < focus->order)) focus = e, focus_value = tag.value();
    }
    if (!focus) return false;

    row.tags_json.clear();
    row.tags_json.push_back('{');
    i = 0;
    for (const auto& tag : tags) {
        const auto* e = i < kept ? entries[i] : repeats_a_key(tags, tag) ? nullptr : matcher.find(tag.key(), tag.value());
        ++i;
        if (!e) continue;
        if (row.tags_json.size() > 1) row.tags_json.push_back(',');
        append_json_string(row.tags_json, tag.key());
        row.tags_json.push_back(':');
        append_json_string(row.tags_json, tag.value());
    }
    row.tags_json.push_back('}');
    // Valid UTF-8 from here on, as tags_json: captions, pickles, meta.jsonl, CSVs and the
    // report all carry the focus tag, and one invalid byte would fail their JSON writers.
    row.focus_tag.clear();
    tags::append_valid_utf8(row.focus_tag, focus->key);
    row.focus_tag.push_back('=');
    tags::append_valid_utf8(row.focus_tag, focus->value == "*" ? std::string_view{focus_value} : std::string_view{focus->value});
    row.max_gsd = focus->max_gsd;
    return true;
}

} // namespace skyscript::osm

namespace skyscript::osm {

bool has_feature_tag(const osmium::TagList& tags, const tags::TagMatcher& matcher) noexcept {
    for (const auto& tag : tags) {
        const auto* e = matcher.find(tag.key(), tag.value());
        if (e && e->role == tags::Role::feature) return true;
    }
    return false;
}

} // namespace skyscript::osm
