#pragma once
// How deep JSON text nests, looked at before it is parsed. nlohmann parses and destroys a value
// without recursion, but copies, dumps and compares it a stack frame a level, as does any walk
// of ours: a server's answer or a file of 100,000 nested brackets overflowed the stack
// (red-team round 42: SIGSEGV). Text nested deeper than a source ever writes is refused first.

#include <string_view>

namespace skyscript::imagery {

// Deeper than anything a build reads or writes (a STAC item's MultiPolygon: 6 levels), far
// from the stack's end.
constexpr int max_json_depth = 64;

// Whether no array or object in `text` is nested more than `max_depth` deep (brackets inside
// strings not counted); whether it is JSON at all is the parser's to say.
bool json_depth_within(std::string_view text, int max_depth = max_json_depth);

} // namespace skyscript::imagery
