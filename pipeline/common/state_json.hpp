#pragma once
// JSON a build keeps in its state DB (tags, objects, provenance, polish records, stage
// summaries), read as text another program may have written: 100,000 nested brackets in one
// column crashed report, split, write and merge (red-team round 42: SIGSEGV in nlohmann's copy).

#include "imagery/json_depth.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace skyscript::pipeline {

using imagery::max_json_depth;

// `text` parsed, or a discarded value (is_discarded()) when it is not JSON or nests deeper than
// max_json_depth.
template <class Json = nlohmann::json>
Json parse_state_json(std::string_view text) {
    if (!imagery::json_depth_within(text)) return Json(Json::value_t::discarded);
    return Json::parse(text, nullptr, false);
}

} // namespace skyscript::pipeline
