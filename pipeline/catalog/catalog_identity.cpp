#include "pipeline/catalog/catalog_identity.hpp"

#include "pipeline/common/build_options.hpp"
#include "pipeline/common/hidden_rules_file.hpp"
#include "pipeline/common/region.hpp"
#include "imagery/json_depth.hpp"
#include "pipeline/common/tag_list_file.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace skyscript::pipeline {

std::string catalog_identity(const std::map<std::string, std::string>& meta) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : meta)
        // How and when the extract read it, not what it holds; the data's date follows from the
        // input (and a header read that failed once must not refuse the same catalog later).
        if (key != "node_index" && key != "created" && key != "input_osm_timestamp") j[key] = value;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string catalog_differences(const std::string& planned_from, const std::string& now, bool both_only) {
    auto a = imagery::parse_json_within_depth(planned_from), b = imagery::parse_json_within_depth(now);
    if (!a.is_object() || !b.is_object()) return "what they record";
    std::string keys;
    for (auto it = a.begin(); it != a.end(); ++it) {
        if (it.key() == "input" || (both_only && !b.contains(it.key()))) continue;
        if (!b.contains(it.key()) || b[it.key()] != it.value()) keys += (keys.empty() ? "" : ", ") + it.key();
    }
    return keys;
}

void check_same_catalog(const std::string& planned_from, const std::map<std::string, std::string>& meta, const std::string& out_dir,
                        const std::string& catalog_path, const std::string& state_path) {
    const auto now = catalog_identity(meta);
    if (planned_from.empty() || planned_from == now) return; // both made by catalog_identity: equal text, the same catalog
    if (catalog_differences(planned_from, now).empty()) return;
    const auto words = [](const std::string& identity) { // "INPUT (BYTES bytes, N objects)"
        const auto j = imagery::parse_json_within_depth(identity);
        const auto get = [&](const char* key) { return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string("?"); };
        return get("input") + " (" + get("input_bytes") + " bytes, " + get("objects") + " objects)";
    };
    throw std::runtime_error(catalog_path + " is not the catalog " + out_dir + " was planned from: it holds " + words(now) + ", the plan was made from " +
                             words(planned_from) + " (they differ in " + catalog_differences(planned_from, now) + "); going on would mix two datasets in one folder: put that catalog back, use another -o, or remove " +
                             state_path + " to start over");
}

void check_tag_list_unchanged(const std::map<std::string, std::string>& meta, const std::string& catalog_path, const std::string& option,
                              const tags::TagList& list) {
    const auto digest = meta.find("tags_digest"), used = meta.find("tags");
    if (digest == meta.end() || used == meta.end() || !same_option_value(*find_option_row("tags"), used->second, option.empty() ? "default" : option)) return;
    if (tag_list_digest(list) == digest->second) return;
    if (option.empty()) // the built-in list: another version of this tool made the catalog
        throw std::runtime_error("the built-in tag list is not the one " + catalog_path +
                                 " was extracted with (another version of skyscript-build), which would mix two vocabularies in one dataset; "
                                 "finish with that version, or extract again into another -o");
    throw std::runtime_error("--tags " + option + ": the tag list changed since " + catalog_path +
                             " was extracted with it, which would mix two vocabularies in one dataset; put the list back, or extract "
                             "again into another -o");
}

void check_extract_files_unchanged(const std::map<std::string, std::string>& meta, const std::string& catalog_path, const std::string& hidden,
                                   const std::string& polygon) {
    const auto recorded = [&](const char* key) { return meta.count(key) ? meta.at(key) : std::string(); };
    const auto refuse = [&](const std::string& what) {
        throw std::runtime_error(what + " since " + catalog_path + " was extracted with it, and the finished extract would be kept as it is; " +
                                 "put the file back, or extract again into another -o");
    };
    if (!hidden.empty() && same_option_value(*find_option_row("hidden"), recorded("hidden_rules"), hidden) && !recorded("hidden_digest").empty() &&
        // Read as the extract read it: a file an earlier version took (a rule given twice) is the
        // same file, not one to refuse now (review of red-team round 33).
        hidden_rules_digest(load_hidden_option(hidden, tags::HiddenRules::Reading::earlier)) != recorded("hidden_digest"))
        refuse("--hidden " + hidden + ": the rules changed");
    if (!polygon.empty() && same_option_value(*find_option_row("polygon"), recorded("region"), polygon) && !recorded("region_digest").empty()) {
        std::string now;
        load_polygon_region(polygon, &now);
        if (now != recorded("region_digest")) refuse("--polygon " + polygon + ": the region changed");
    }
}

} // namespace skyscript::pipeline
