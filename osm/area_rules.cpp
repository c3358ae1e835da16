#include "osm/area_rules.hpp"


#include <algorithm>
#include <span>
#include <string_view>

namespace skyscript::osm {

namespace {

// Per key: closed ways with it are lines unless tagged area=yes; `all_linear` for every
// value, else only for `linear`'s. `areas`: values that still denote areas.
struct KeyRules {
    std::string_view key;
    bool all_linear;
    std::span<const std::string_view> linear;
    std::span<const std::string_view> areas;
};

constexpr std::string_view highway_areas[] = {"pedestrian", "rest_area", "services", "platform"};
constexpr std::string_view railway_areas[] = {"platform", "station"};
constexpr std::string_view waterway_areas[] = {"riverbank", "dock", "boatyard", "dam"};
constexpr std::string_view natural_lines[] = {"coastline", "cliff", "ridge", "arete", "tree_row", "earth_bank"};
constexpr std::string_view man_made_lines[] = {"embankment", "pipeline", "cutline", "groyne"};
constexpr std::string_view power_lines[] = {"line", "minor_line", "cable"};
constexpr std::string_view aeroway_lines[] = {"taxiway", "runway"};

constexpr KeyRules key_rules[] = {
    {"highway", true, {}, highway_areas}, {"barrier", true, {}, {}},        {"railway", true, {}, railway_areas},
    {"waterway", true, {}, waterway_areas}, {"aerialway", true, {}, {}},    {"route", true, {}, {}},
    {"natural", false, natural_lines, {}}, {"man_made", false, man_made_lines, {}}, {"power", false, power_lines, {}},
    {"aeroway", false, aeroway_lines, {}},
};

bool listed(std::span<const std::string_view> values, std::string_view v) {
    return std::find(values.begin(), values.end(), v) != values.end();
}

} // namespace

bool closed_way_is_area(const osmium::TagList& tags) noexcept {
    // One pass over the tags: most keys are none of the rules', which a length and a few
    // byte compares tell.
    bool linear = false, area_value = false;
    for (const auto& tag : tags) {
        const std::string_view k = tag.key();
        if (k == "area") {
            const std::string_view v = tag.value();
            if (v == "yes") return true;
            if (v == "no") return false;
            continue;
        }
        for (const auto& r : key_rules) {
            if (r.key != k) continue;
            const std::string_view v = tag.value();
            if (listed(r.areas, v)) area_value = true;
            else if (r.all_linear || listed(r.linear, v)) linear = true;
            break;
        }
    }
    return area_value || !linear;
}

} // namespace skyscript::osm
