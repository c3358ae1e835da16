#include "pipeline/polish/answer_check.hpp"

#include "captions/caption_tables.hpp"
#include "captions/caption_text.hpp"
#include "captions/captioner.hpp"
#include "tag_filters/utf8_text.hpp"

#include <algorithm>
#include <optional>
#include <cstdlib>
#include <set>

namespace skyscript::embedded {
std::string_view feature_words_txt();
} // namespace skyscript::embedded

namespace skyscript::pipeline {

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lowercase_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Lowercase, `_` and `:` as spaces: how tags read as words.
std::string as_words(std::string_view s) {
    auto out = lowercase_ascii(s);
    std::replace_if(out.begin(), out.end(), [](char c) { return c == '_' || c == ':'; }, ' ');
    return out;
}

std::string singular(std::string w) {
    const auto ends = [&](std::string_view t) { return w.size() > t.size() + 1 && w.ends_with(t); };
    if (ends("ies")) return w.substr(0, w.size() - 3) + "y";
    if (ends("ches") || ends("shes") || ends("sses") || ends("xes")) return w.substr(0, w.size() - 2);
    if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's' && w[w.size() - 2] != 'u') return w.substr(0, w.size() - 1);
    return w;
}

// The first character of `text` in a script other than Latin (Greek, Cyrillic, Arabic, CJK,
// Hangul, ...) that `given` does not hold, as UTF-8; punctuation, symbols and marks pass.
std::optional<std::string> first_other_script(std::string_view text, std::string_view given) {
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        if (i + n > text.size()) break;
        char32_t c = n == 1 ? lead : n == 2 ? lead & 0x1F : n == 3 ? lead & 0x0F : lead & 0x07;
        for (std::size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        // Emoji and pictographs (U+1F000 on) are signs, not a script.
        const bool latin_or_sign = c < 0x370 || (c >= 0x1E00 && c <= 0x1EFF) || (c >= 0x2000 && c <= 0x2BFF) || (c >= 0xE000 && c <= 0xF8FF) ||
                                   (c >= 0xFE00 && c <= 0xFFFF) || c >= 0x1F000;
        const auto ch = text.substr(i, n);
        if (!latin_or_sign && given.find(ch) == std::string_view::npos) return std::string(ch);
        i += n;
    }
    return std::nullopt;
}

// The words of a text (ASCII letters), lowercase and singular.
void add_words(std::string_view text, std::set<std::string>& out) {
    std::string w;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : ' ';
        if (is_letter(c)) w.push_back(static_cast<char>(c | 0x20));
        else if (!w.empty()) {
            out.insert(singular(w));
            w.clear();
        }
    }
}

// The numbers of a text: digit runs with `.` or `,` between digit groups; "16,000" is
// 16000, "19,9" is 19.9; "1.5" is 1.5.
std::vector<double> numbers_in(std::string_view text) {
    std::vector<double> out;
    for (std::size_t i = 0; i < text.size();) {
        if (!is_digit(text[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && (is_digit(text[j]) || ((text[j] == '.' || text[j] == ',') && j + 1 < text.size() && is_digit(text[j + 1]))))
            ++j;
        std::string n(text.substr(i, j - i));
        // Thousands groups: 1,234 or 16,000,000 (one to three digits, then groups of three).
        bool grouped = n.find(',') != std::string::npos && n.find('.') == std::string::npos;
        if (grouped) {
            const auto first = n.find(',');
            grouped = first <= 3 && (n.size() - first) % 4 == 0;
            for (auto k = first; grouped && k < n.size(); k += 4) grouped = n[k] == ',';
        }
        if (grouped) n.erase(std::remove(n.begin(), n.end(), ','), n.end());
        else std::replace(n.begin(), n.end(), ',', '.');
        // A second `.` (a date, a version) ends the number there.
        if (auto dot = n.find('.'); dot != std::string::npos)
            if (auto second = n.find('.', dot + 1); second != std::string::npos) n.resize(second);
        out.push_back(std::strtod(n.c_str(), nullptr));
        i = j;
    }
    return out;
}

// Numbers in words ("one" is left out: "one of the", "one-way"); any of them makes the
// answer give a number ("thirteen floors", "a hundred windows", "one thousand flats").
constexpr std::pair<std::string_view, int> number_words[] = {
    {"two", 2},         {"three", 3},      {"four", 4},       {"five", 5},      {"six", 6},        {"seven", 7},    {"eight", 8},
    {"nine", 9},        {"ten", 10},       {"eleven", 11},    {"twelve", 12},   {"dozen", 12},     {"thirteen", 13}, {"fourteen", 14},
    {"fifteen", 15},    {"sixteen", 16},   {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},  {"twenty", 20},  {"thirty", 30},
    {"forty", 40},      {"fifty", 50},     {"sixty", 60},     {"seventy", 70},  {"eighty", 80},    {"ninety", 90},  {"hundred", 100},
    {"thousand", 1000}, {"million", 1000000}};

// The zero of each run of ten decimal digits of another script (Unicode's Nd: Arabic-Indic,
// Devanagari, Thai, fullwidth, the mathematical ones, ...). Not the super- and subscripts: the
// ² of m² is an exponent.
constexpr unsigned digit_zeros[] = {0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
                                    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
                                    0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0,
                                    0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6};

// `text` with every digit of another script as its ASCII digit: "١٧ floors" and "１７ floors"
// give 17 as "17 floors" does.
std::string ascii_digits(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        unsigned cp = 0;
        const std::size_t n = std::max<std::size_t>(1, tags::decode_utf8(text, i, cp));
        int digit = -1;
        for (const unsigned zero : digit_zeros)
            if (cp >= zero && cp < zero + 10) digit = static_cast<int>(cp - zero);
        if (digit >= 0) out.push_back(static_cast<char>('0' + digit));
        else out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

// `phrase` in `text` at the start of a word.
bool starts_a_word_in(const std::string& text, const std::string& phrase) {
    if (phrase.empty()) return false;
    for (auto at = text.find(phrase); at != std::string::npos; at = text.find(phrase, at + 1))
        if (at == 0 || !is_letter(text[at - 1])) return true;
    return false;
}

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

} // namespace

AnswerCheck::AnswerCheck(std::string_view tag_names, std::vector<std::string> prompt_labels)
    : names_(captions::NameTable::parse(tag_names)), prompt_labels_(std::move(prompt_labels)) {
    for (const auto w : captions::data_lines(embedded::feature_words_txt())) feature_words_.insert(singular(std::string(w)));
    for (auto& label : prompt_labels_) label = lowercase_ascii(label);
}

std::string AnswerCheck::name_of(const std::string& key, const std::string& value) const {
    const auto* name = names_.find(key, value);
    if (!name && value == "yes") name = names_.find(key, "*");
    return name ? as_words(*name) : std::string();
}

std::string AnswerCheck::clean(std::string_view answer) {
    auto out = tags::one_line_words(answer); // bidi controls and invisible text dropped, as in the rule captions (caption_text.hpp)
    // A list's bullet before the sentence ("- An aerial view ..."): no part of it, and a
    // spreadsheet reads a cell starting with `-` as a formula.
    for (const std::string_view bullet : {"- ", "* ", "\xe2\x80\xa2 "})
        if (out.starts_with(bullet)) {
            out.erase(0, bullet.size());
            break;
        }
    for (const auto& [open, close] : {std::pair<std::string_view, std::string_view>{"\"", "\""}, {"'", "'"}, {"\xe2\x80\x9c", "\xe2\x80\x9d"}})
        if (out.size() >= open.size() + close.size() && out.starts_with(open) && out.ends_with(close)) {
            out = out.substr(open.size(), out.size() - open.size() - close.size());
            break;
        }
    return out;
}

std::optional<std::string> AnswerCheck::check(std::string_view answer, const CheckFacts& facts) const {
    const std::size_t max_chars = facts.caption.size() * 3 + 100;
    if (answer.size() < min_answer_chars) return "the answer is too short (" + std::to_string(answer.size()) + " characters)";
    if (answer.size() > max_chars)
        return "the answer is too long (" + std::to_string(answer.size()) + " characters, at most " + std::to_string(max_chars) + ")";
    if (std::string_view("=+-@").find(answer.front()) != std::string_view::npos)
        return "it starts with `" + std::string(1, answer.front()) + "`, as a spreadsheet formula does";
    const auto lower = lowercase_ascii(answer);
    for (const auto& label : prompt_labels_)
        if (starts_a_word_in(lower, label)) return "it repeats the prompt's \"" + label + "\": answer with the caption alone";
    const auto text = as_words(answer);

    // The focus feature, by its value (its key for `yes`) or its English name.
    const auto eq = facts.focus_tag.find('=');
    const std::string key = facts.focus_tag.substr(0, eq), value = eq == std::string::npos ? "" : facts.focus_tag.substr(eq + 1);
    // As the caption shows it (red-team round 33: a faithful answer was refused for
    // "school;church", which the caption reads "school/church", for a value cut at 64 bytes
    // and for one holding U+202E, and the reason sent back held the raw value's controls).
    const bool yes = captions::value_reads_as(value, "yes");
    std::string shown;
    const captions::CaptionOptions caption_options;
    captions::append_caption_text(shown, yes ? key : value, yes ? captions::TextPart::key : captions::TextPart::value,
                                  yes ? caption_options.max_key_bytes : caption_options.max_value_bytes);
    if (shown.ends_with("...")) shown.resize(shown.size() - 3); // a cut value: its shown start is enough
    const auto named = as_words(shown);
    const auto name = name_of(key, value);
    if (!starts_a_word_in(text, named) && !starts_a_word_in(text, name))
        return "it does not name the main feature: say \"" + (name.empty() ? named : name) + "\"";

    // What the answer may say: the words and numbers of the tags, their names and the caption.
    std::set<std::string> support;
    std::vector<double> allowed = numbers_in(ascii_digits(facts.caption));
    const auto add_object = [&](const TagPairs& tags) {
        for (const auto& [k, v] : tags) {
            add_words(as_words(k), support);
            add_words(as_words(v), support);
            add_words(name_of(k, v), support);
            const auto n = numbers_in(ascii_digits(v));
            allowed.insert(allowed.end(), n.begin(), n.end());
        }
    };
    add_object(facts.focus);
    for (const auto& object : facts.surroundings) add_object(object);
    add_words(facts.caption, support);
    if (!facts.gsd.empty()) {
        const auto n = numbers_in(facts.gsd);
        allowed.insert(allowed.end(), n.begin(), n.end());
    }
    const auto allowed_number = [&](double v) { return std::find(allowed.begin(), allowed.end(), v) != allowed.end(); };

    for (const double v : numbers_in(ascii_digits(answer)))
        if (!allowed_number(v)) return "it gives the number " + format_number(v) + ", which the tags do not hold";
    std::set<std::string> words;
    add_words(text, words);
    for (const auto& [word, v] : number_words)
        if (words.count(std::string(word)) && !allowed_number(v)) return "it says \"" + std::string(word) + "\", a number the tags do not hold";
    for (const auto& w : words)
        if (feature_words_.count(w) && !support.count(w)) return "it names \"" + w + "\", which the tags do not mention";
    // In English, as the prompt asks (red-team round 37: "这是building的卫星图像。" and "Una imagen
    // satelital de building vista desde arriba" were kept as polished captions): letters of
    // another script than the caption's and the tags', or none of English's commonest words.
    std::string given = facts.caption;
    const auto add_text = [&](const TagPairs& tags) {
        for (const auto& [k, v] : tags) given.append(k).append(v);
    };
    add_text(facts.focus);
    for (const auto& object : facts.surroundings) add_text(object);
    if (const auto other = first_other_script(answer, given)) return "it is not in English (\"" + *other + "\"): answer in English";
    // Short noun phrases ("Two tennis courts", "Large parking lot") need none: only a sentence
    // of four words or more is asked for one.
    static const std::set<std::string> english{
        "a",     "an",     "the",  "of",      "with",    "and",     "in",   "on",    "near",  "at",     "by",    "from",    "for",
        "is",    "are",    "it",   "thi",     "show",    "showing", "beside", "next", "to",   "around", "over",  "along",   "among",
        "between", "across", "into", "where", "that",    "seen",    "view", "as",    "has",   "or",     "two",   "three",   "several",
        "some",  "large",  "small", "surrounded", "under", "inside", "above", "below", "behind", "aerial", "image", "satellite", "its"};
    std::size_t word_count = 0;
    for (std::size_t i = 0; i < text.size(); ++i)
        word_count += is_letter(text[i]) && (i == 0 || !is_letter(text[i - 1]));
    if (word_count >= 4 && std::none_of(words.begin(), words.end(), [&](const std::string& w) { return english.count(w) > 0; }))
        return "it is not in English: answer with an English sentence";
    return std::nullopt;
}

} // namespace skyscript::pipeline
