#include "area_rules.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace skyscript::osm {

namespace {

struct LinearRule {
    std::string_view key;
    std::string_view value; // "*": every value of the key is linear
};

// Closed ways with these tags are lines unless tagged area=yes.
constexpr LinearRule linear_rules[] = {
    {"highway", "*"},        {"barrier", "*"},          {"railway", "*"},
    {"waterway", "*"},       {"aerialway", "*"},        {"route", "*"},
    {"natural", "coastline"}, {"natural", "cliff"},     {"natural", "ridge"},
    {"natural", "arete"},    {"natural", "tree_row"},   {"natural", "earth_bank"},
    {"man_made", "embankment"}, {"man_made", "pipeline"}, {"man_made", "cutline"},
    {"man_made", "groyne"},  {"power", "line"},         {"power", "minor_line"},
    {"power", "cable"},      {"aeroway", "taxiway"},    {"aeroway", "runway"},
};

// Values of linear keys that still denote areas (a closed one is a polygon).
constexpr LinearRule area_exceptions[] = {
    {"highway", "pedestrian"}, {"highway", "rest_area"}, {"highway", "services"},
    {"highway", "platform"},   {"railway", "platform"},  {"railway", "station"},
    {"waterway", "riverbank"}, {"waterway", "dock"},     {"waterway", "boatyard"},
    {"waterway", "dam"},
};

bool matches(const LinearRule& r, std::string_view k, std::string_view v) {
    return r.key == k && (r.value == "*" || r.value == v);
}

} // namespace

bool closed_way_is_area(const osmium::TagList& tags) noexcept {
    if (const char* area = tags.get_value_by_key("area")) {
        if (!std::strcmp(area, "yes")) return true;
        if (!std::strcmp(area, "no")) return false;
    }
    bool linear = false;
    for (const auto& tag : tags) {
        const std::string_view k = tag.key(), v = tag.value();
        if (std::any_of(std::begin(area_exceptions), std::end(area_exceptions), [&](const auto& r) { return matches(r, k, v); }))
            return true;
        if (std::any_of(std::begin(linear_rules), std::end(linear_rules), [&](const auto& r) { return matches(r, k, v); }))
            linear = true;
    }
    return !linear;
}

} // namespace skyscript::osm
