#pragma once
// Making OSM keys and values safe caption text: one line, valid UTF-8, no control
// characters, no runs of spaces, bounded length.

#include <cstddef>
#include <string>
#include <string_view>

namespace skyscript::captions {

enum class TextPart { key, value };

// Appends `in` cleaned:
// - `_` becomes a space; in keys `:` does too ("plant:source" -> "plant source");
// - tabs, newlines, other control characters and Unicode line/paragraph separators
//   become a space; runs of spaces collapse to one; leading/trailing spaces go;
// - in values, `;` (OSM's multi-value separator) becomes `/` ("soccer;basketball" ->
//   "soccer/basketball"), so it never reads as the caption's own object separator;
// - the bidirectional embedding, override and isolate controls (U+202A..U+202E,
//   U+2066..U+2069) are dropped: one in a name reorders how the rest of the caption and of
//   its CSV row display (after U+202E the text reads reversed); the marks U+200E, U+200F,
//   which reorder nothing after them, stay;
// - characters that show nothing (zero-width space, word joiner, BOM, tag characters:
//   tags::invisible_text) are dropped; the joiners ZWNJ and ZWJ stay;
// - invalid UTF-8 bytes become U+FFFD;
// - text longer than `max_bytes` is cut at a character boundary and ends in "...".
// Returns the number of bytes appended (0: nothing left, e.g. an empty value).
std::size_t append_caption_text(std::string& out, std::string_view in, TextPart part, std::size_t max_bytes);

// Whether a value reads as `word` once cleaned: "yes " (a stray space) or "yes" with a
// zero-width space is OSM's `yes`, which the rules treat apart ("building", not "building of
// yes"). Cheap for the values that are not: only short ones holding the word are cleaned.
bool value_reads_as(std::string_view value, std::string_view word);

} // namespace skyscript::captions
