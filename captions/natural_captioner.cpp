#include "captions/natural_captioner.hpp"

#include "captions/caption_text.hpp"

#include <algorithm>
#include <cctype>

namespace skyscript::captions {

NameTable NameTable::parse(std::string_view text) {
    NameTable t;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto tab = line.find('\t');
        if (tab == std::string_view::npos) continue;
        t.names_.emplace(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
    }
    return t;
}

const std::string* NameTable::find(std::string_view key, std::string_view value) const {
    std::string k;
    k.reserve(key.size() + value.size() + 1);
    k.append(key).append("=").append(value);
    auto it = names_.find(k);
    return it == names_.end() ? nullptr : &it->second;
}

namespace {

bool is_number(std::string_view v) {
    bool digit = false;
    for (char c : v) {
        if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
        else if (c != '.' && c != ',' && c != '-' && c != ' ') return false;
    }
    return digit;
}

std::string clean(std::string_view text, TextPart part, std::size_t max_bytes) {
    std::string out;
    append_caption_text(out, text, part, max_bytes);
    return out;
}

const char* number_word(std::size_t n) {
    static const char* words[] = {"no", "one", "two", "three", "four", "five", "six",
                                  "seven", "eight", "nine", "ten", "eleven", "twelve"};
    return n < std::size(words) ? words[n] : nullptr;
}

} // namespace

std::string with_article(const std::string& phrase) {
    if (phrase.empty()) return phrase;
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(phrase[0])));
    const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || (c == 'u' && !phrase.starts_with("uni"));
    std::string out = vowel ? "an " : "a ";
    return out += phrase;
}

std::string plural(const std::string& phrase) {
    // "place of worship" -> "places of worship": the head noun is before " of ".
    if (auto of = phrase.find(" of "); of != std::string::npos) return plural(phrase.substr(0, of)) + phrase.substr(of);
    if (phrase.empty()) return phrase;
    auto ends = [&](std::string_view s) { return phrase.ends_with(s); };
    if (ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh")) return phrase + "es";
    if (phrase.size() > 1 && ends("y") && std::string_view("aeiou").find(phrase[phrase.size() - 2]) == std::string_view::npos)
        return phrase.substr(0, phrase.size() - 1) + "ies";
    if (ends("person")) return phrase.substr(0, phrase.size() - 6) + "people";
    return phrase + "s";
}

std::string count_phrase(std::size_t n, const std::string& phrase) {
    if (n == 1) return with_article(phrase);
    const char* word = number_word(n);
    return (word ? std::string(word) : std::to_string(n)) + " " + plural(phrase);
}

NaturalCaptioner::NaturalCaptioner(const NameTable& names, const CaptionTables& tables, CaptionOptions options)
    : names_(names), rules_(tables, options), options_(options) {
    adjective_keys_ = tables.adjective_keys;
}

std::string NaturalCaptioner::name_of(const Tag& tag) const {
    if (const auto* n = names_.find(tag.key, tag.value)) return *n;
    if (value_reads_as(tag.value, "yes")) {
        if (const auto* n = names_.find(tag.key, "*")) return *n;
        return clean(tag.key, TextPart::key, options_.max_key_bytes);
    }
    return clean(tag.value, TextPart::value, options_.max_value_bytes);
}

std::string NaturalCaptioner::noun(TagSet object) const {
    const auto tags = rules_.ordered(object);
    std::string head, adjectives;
    for (const auto& t : tags) {
        if (t.value.empty() || clean(t.value, TextPart::value, options_.max_value_bytes).empty()) continue;
        if (head.empty()) {
            head = name_of(t);
            continue;
        }
        if (adjective_keys_.count(std::string(t.key)) && !value_reads_as(t.value, "yes") && !value_reads_as(t.value, "no")) {
            const auto adj = clean(t.value, TextPart::value, options_.max_value_bytes);
            if (head.find(adj) == std::string::npos) adjectives += adj + " "; // "soccer" is already in "soccer field"
        }
    }
    return adjectives + head;
}

std::string NaturalCaptioner::attribute_phrase(const Tag& tag) const {
    if (value_reads_as(tag.value, "yes") || value_reads_as(tag.value, "no") || adjective_keys_.count(std::string(tag.key))) return {};
    const auto* label = names_.find(tag.key, "*");
    const std::string key_text = label ? *label : clean(tag.key, TextPart::key, options_.max_key_bytes);
    const auto value = clean(tag.value, TextPart::value, options_.max_value_bytes);
    if (value.empty() || key_text.empty()) return {};
    if (is_number(tag.value)) return value + " " + key_text; // "2 lanes", "16000 voltage"
    const auto* name = names_.find(tag.key, tag.value);
    std::string v = name ? *name : value;
    if (v.find(key_text) != std::string::npos) return with_article(v);
    return with_article(v + " " + key_text); // "an asphalt surface", "a flat roof shape"
}

std::string NaturalCaptioner::object_phrase(TagSet object) const {
    const auto head = noun(object);
    if (head.empty()) return {};
    std::string out = with_article(head);
    const auto tags = rules_.ordered(object);
    std::vector<std::string> attrs;
    bool first = true;
    for (const auto& t : tags) {
        if (first && !t.value.empty()) {
            first = false; // the head noun
            continue;
        }
        auto p = attribute_phrase(t);
        if (!p.empty() && std::find(attrs.begin(), attrs.end(), p) == attrs.end()) attrs.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < attrs.size(); ++i) out += (i == 0 ? " with " : " and ") + attrs[i];
    return out;
}

std::string NaturalCaptioner::title(TagSet focus) const {
    const auto phrase = object_phrase(focus);
    return phrase.empty() ? "a satellite image" : std::string(caption_prefix) + phrase;
}

std::string NaturalCaptioner::title_multi_objects(TagSet focus, std::span<const TagSet> surrounding) const {
    std::string out = title(focus);
    // Group surrounding objects by their noun, first-seen order, and count them.
    std::vector<std::pair<std::string, std::size_t>> groups;
    for (const auto& object : surrounding) {
        auto n = noun(object);
        if (n.empty()) continue;
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == n; });
        if (it != groups.end()) ++it->second;
        else if (groups.size() < options_.max_surrounding) groups.emplace_back(std::move(n), 1);
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
        out += i == 0 ? ", next to " : i + 1 == groups.size() ? " and " : ", ";
        out += count_phrase(groups[i].second, groups[i].first);
    }
    return out;
}

} // namespace skyscript::captions
