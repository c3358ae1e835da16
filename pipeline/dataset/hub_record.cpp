#include "pipeline/dataset/hub_record.hpp"

#include "pipeline/dataset/meta_record.hpp"
#include "tag_filters/utf8_text.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <utility>

namespace skyscript::pipeline {

namespace {

// meta_record's keys in its order, and what stands for a key an image's record lacks; those
// with a `none` are written as JSON text.
struct HubKey {
    const char* name;
    const char* none; // nullptr: always in the record, written as it is
};
constexpr HubKey hub_keys[] = {
    {"box", nullptr},        {"time", nullptr},          {"center_tags", "{}"},  {"surrounding_tags", "[]"}, {"objects", "[]"},
    {"osm_type", nullptr},   {"osm_id", nullptr},        {"source", nullptr},    {"gsd_m", nullptr},         {"size_px", nullptr},
    {"focus_tag", nullptr},  {"crs", nullptr},           {"transform", nullptr}, {"time_known", nullptr},    {"valid_fraction", nullptr},
    {"provenance", "{}"},    {"licence", nullptr},       {"attribution", nullptr}, {"polish", "{}"},
};

} // namespace

std::string hub_record_line(const Job& job, std::string_view name_key, const std::string& name, const std::vector<std::string>& caption_fields) {
    using json = nlohmann::ordered_json;
    auto m = meta_record(job);
    json row;
    row[std::string(name_key)] = name;
    for (const auto& field : caption_fields) row[field] = tags::valid_utf8(job.caption(field));
    std::size_t listed = 0;
    for (const auto& key : hub_keys) {
        const auto it = m.find(key.name);
        listed += it != m.end();
        if (!key.none) {
            if (it == m.end()) throw std::logic_error(std::string("meta record without `") + key.name + "`");
            row[key.name] = std::move(*it);
        } else {
            row[key.name] = it == m.end() ? std::string(key.none) : json_text(*it);
        }
    }
    if (listed != m.size()) // a key meta_record gained must be given its Hub form here
        throw std::logic_error("meta record has keys the Hub form does not list");
    return json_text(row) + "\n";
}

} // namespace skyscript::pipeline
