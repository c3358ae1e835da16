#pragma once
// The catalog's `tags` column -- a flat JSON object of strings as osm/append_json_string
// writes it -- read back without a DOM: the planner reads every object's tags once, and
// nlohmann's parser was most of that time. Any other JSON falls back to nlohmann.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// Appends the object's key/value pairs in order; throws std::runtime_error on invalid JSON.
void parse_catalog_tags(std::string_view json, std::vector<std::pair<std::string, std::string>>& out);

} // namespace skyscript::pipeline
