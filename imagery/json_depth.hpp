#pragma once
// How deep JSON text nests, looked at before it is parsed. nlohmann parses and destroys a value
// without recursion, but copies, dumps and compares it a stack frame a level, as does any walk
// of ours: a server's answer or a file of 100,000 nested brackets overflowed the stack
// (red-team round 42: SIGSEGV). Text nested deeper than a source ever writes is refused first.

#include <nlohmann/json.hpp>

#include <string_view>

namespace skyscript::imagery {

// Deeper than anything a build reads or writes (a STAC item's MultiPolygon: 6 levels), far
// from the stack's end.
constexpr int max_json_depth = 64;

// Whether no array or object in `text` is nested more than `max_depth` deep (brackets inside
// strings not counted); whether it is JSON at all is the parser's to say.
bool json_depth_within(std::string_view text, int max_depth = max_json_depth);

// `text` parsed, or a discarded value (is_discarded()) when it is not JSON or nests deeper than
// max_json_depth: JSON another program wrote (a state DB edited by hand, a server's answer).
template <class Json = nlohmann::json>
Json parse_json_within_depth(std::string_view text) {
    if (!json_depth_within(text)) return Json(Json::value_t::discarded);
    return Json::parse(text, nullptr, false);
}

} // namespace skyscript::imagery
