#pragma once
// Text from outside (OSM tag keys and values, tag lists) is UTF-8 by contract but not by
// guarantee: one stray byte would make every JSON, pickle and HTML writer downstream fail
// or write invalid text. These helpers keep text valid UTF-8: invalid bytes become U+FFFD
// (as the README promises), and cuts fall between code points.

#include <cstddef>
#include <string>
#include <string_view>

namespace skyscript::tags {

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when none starts there
// (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;
// The same, with the sequence's code point in `cp` (set when the length is not 0).
std::size_t decode_utf8(std::string_view s, std::size_t i, unsigned& cp) noexcept;

bool is_valid_utf8(std::string_view s) noexcept;

// `s` with each byte that starts no valid sequence replaced by U+FFFD.
void append_valid_utf8(std::string& out, std::string_view s);
std::string valid_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not cut a code point
// (for valid UTF-8; an invalid byte counts as one code point).
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept;

// The spaces other than U+0020 (Unicode's Zs): the no-break space U+00A0, the ogham space
// mark, the en quad to the hair space U+2000..U+200A, the narrow no-break, medium
// mathematical and ideographic spaces. A reader sees a space.
constexpr bool other_space(unsigned cp) noexcept {
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// A code point that breaks a line or controls a terminal: C0 controls, DEL, C1 controls
// (NEL among them), and the line and paragraph separators U+2028, U+2029. Text meant as one
// line (a caption, a YAML scalar) has none: Python's str.splitlines() breaks at each of them.
constexpr bool breaks_one_line(unsigned cp) noexcept { return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0x2028 || cp == 0x2029; }

// The bidirectional embedding, override and isolate controls (U+202A..U+202E,
// U+2066..U+2069): one in a caption reorders how the rest of it, and of its CSV row, display
// (after U+202E the text reads reversed). The marks U+200E, U+200F reorder nothing after them.
constexpr bool reorders_text(unsigned cp) noexcept { return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069); }

// Format characters that show nothing and join no script's letters: the zero-width space
// U+200B, the word joiner and invisible operators U+2060..U+2064, the BOM U+FEFF, the
// interlinear annotation marks U+FFF9..U+FFFB and the tag characters U+E0000..U+E007F (which
// spell ASCII no reader sees: text hidden in a name for a language model). Not the joiners
// U+200C, U+200D, which Persian, Indic scripts and emoji need.
constexpr bool invisible_text(unsigned cp) noexcept {
    return cp == 0x200B || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xE0000 && cp <= 0xE007F);
}

// `s` as one line for a message: valid UTF-8, each code point that breaks_one_line a space,
// cut between code points to at most `max_bytes` bytes of `s`.
std::string one_line(std::string_view s, std::size_t max_bytes = std::string_view::npos);

// `s` as one line of words, as a reader sees it: valid UTF-8 (a stray byte U+FFFD), each space
// (other_space too) and each code point that breaks_one_line one space between words and none at either end,
// what reorders_text or is invisible_text dropped. A label (COCO's category), a model's answer.
std::string one_line_words(std::string_view s);

// `s` without a leading UTF-8 byte order mark (editors on Windows write one).
std::string_view without_bom(std::string_view s) noexcept;

} // namespace skyscript::tags
