// Fuzz target: both caption styles (captions/: Captioner and NaturalCaptioner with the
// built-in tables and tag names) and the text cleaner under them, on arbitrary tags: keys
// and values of any bytes, NUL and invalid UTF-8 included.
//
// Input: byte 0 picks the options, byte 1 the counts (focus tags, surrounding objects),
// then each surrounding object's tag count; the rest are key and value strings
// (ByteReader: a string ends at "\\" plus another byte).
//
// Invariants (captioner.hpp's contract): every caption starts with "a satellite image",
// "a satellite image of " whenever it says more; it is one line of valid UTF-8 with no
// control character, line separator, double or trailing space; it is bounded by the tags'
// count, and the same tags give the same caption.

#include "byte_reader.hpp"
#include "captions/caption_text.hpp"
#include "captions/captioner.hpp"
#include "fuzz_check.hpp"
#include "captions/natural_captioner.hpp"
#include "tag_filters/tag_list.hpp"
#include "utf8_check.hpp"

#include <deque>
#include <string>
#include <vector>

using namespace skyscript::captions;
using skyscript::fuzz::ByteReader;

namespace {

// One line, valid UTF-8, no C0/C1 control, NEL or line/paragraph separator.
void check_one_line(const std::string& s, const std::string& what) {
    FUZZ_CHECK(skyscript::fuzz::is_strict_utf8(s), what + ": invalid UTF-8");
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        FUZZ_CHECK(c >= 0x20 && c != 0x7F, what + ": control byte at " + std::to_string(i));
        if (c == 0xC2 && i + 1 < s.size()) // U+0080..U+009F: C1 controls, U+0085 NEL
            FUZZ_CHECK(static_cast<unsigned char>(s[i + 1]) >= 0xA0, what + ": C1 control at " + std::to_string(i));
        if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
            const auto c3 = static_cast<unsigned char>(s[i + 2]);
            FUZZ_CHECK(c3 != 0xA8 && c3 != 0xA9, what + ": line separator at " + std::to_string(i));
        }
    }
}

void check_caption(const std::string& caption, std::size_t bound, const std::string& what) {
    check_one_line(caption, what);
    FUZZ_CHECK(caption.starts_with("a satellite image"), what + ": " + caption);
    if (caption.size() > 17 && caption[17] == ' ') FUZZ_CHECK(caption.starts_with(caption_prefix), what + ": " + caption);
    FUZZ_CHECK(caption.find("  ") == std::string::npos, what + ": double space: " + caption);
    FUZZ_CHECK(caption.back() != ' ', what + ": trailing space: " + caption);
    FUZZ_CHECK(caption.size() <= bound, what + ": " + std::to_string(caption.size()) + " bytes, bound " + std::to_string(bound));
}

void check_clean_text(const std::string& in, TextPart part, std::size_t max_bytes) {
    std::string out = "x";
    const std::size_t n = append_caption_text(out, in, part, max_bytes);
    FUZZ_CHECK(n == out.size() - 1, "returned length");
    const std::string body = out.substr(1);
    check_one_line(body, "append_caption_text");
    FUZZ_CHECK(body.size() <= max_bytes + 3, "cut too late: " + std::to_string(body.size()));
    FUZZ_CHECK(body.find("  ") == std::string::npos && !body.starts_with(' ') && !body.ends_with(' '), "spaces: " + body);
    if (part == TextPart::key) FUZZ_CHECK(body.find(':') == std::string::npos && body.find('_') == std::string::npos, body);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const NameTable names = NameTable::parse(skyscript::tags::builtin_tag_names());
    ByteReader in{data, size};
    const std::uint8_t o = in.byte(), counts = in.byte();
    CaptionOptions options;
    options.max_surrounding = o & 7;
    static constexpr std::size_t value_bytes[] = {64, 1, 2, 3, 4, 7, 16, 200};
    static constexpr std::size_t key_bytes[] = {48, 1, 3, 100};
    options.max_value_bytes = value_bytes[(o >> 3) & 7];
    options.max_key_bytes = key_bytes[(o >> 6) & 3];

    std::deque<std::string> strings; // a deque: the Tag views stay valid as it grows
    auto read_object = [&](std::size_t n) {
        std::vector<Tag> object;
        for (std::size_t i = 0; i < n && !in.empty(); ++i) {
            strings.push_back(in.string());
            strings.push_back(in.string());
            object.push_back({strings[strings.size() - 2], strings.back()});
        }
        return object;
    };
    const std::size_t n_focus = counts & 7, n_surrounding = counts >> 3 & 7;
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < n_surrounding; ++i) sizes.push_back(in.byte() & 7);
    const auto focus = read_object(n_focus);
    std::vector<std::vector<Tag>> around;
    for (auto n : sizes) around.push_back(read_object(n));
    std::vector<TagSet> around_sets(around.begin(), around.end());

    std::size_t tags = focus.size();
    for (const auto& a : around) tags += a.size();
    // Each tag's phrase: a cleaned key and value (each cut, plus "..."), a rename or a tag
    // name, and joining words; generous, it only catches runaway growth.
    const std::size_t bound = 64 + tags * (options.max_key_bytes + options.max_value_bytes + 200);

    const Captioner rules{CaptionTables::builtin(), options};
    const auto title = rules.title(focus);
    check_caption(title, bound, "title");
    FUZZ_CHECK(rules.title(focus) == title, "title not deterministic");
    check_caption(rules.title_multi_objects(focus, around_sets), bound, "title_multi_objects");

    const NaturalCaptioner natural{names, CaptionTables::builtin(), options};
    const auto natural_title = natural.title(focus);
    check_caption(natural_title, bound, "natural title");
    FUZZ_CHECK(natural.title(focus) == natural_title, "natural title not deterministic");
    check_caption(natural.title_multi_objects(focus, around_sets), bound, "natural title_multi_objects");
    for (const auto& a : around) check_one_line(natural.noun(a), "noun");

    // The cleaner alone, on every string read.
    for (const auto& s : strings) {
        check_clean_text(s, TextPart::key, options.max_key_bytes);
        check_clean_text(s, TextPart::value, options.max_value_bytes);
    }
    return 0;
}
