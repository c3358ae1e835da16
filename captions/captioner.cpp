#include "captions/captioner.hpp"

#include "captions/caption_text.hpp"

#include <algorithm>
#include <array>

namespace skyscript::captions {

Captioner::Captioner(const CaptionTables& tables, CaptionOptions options)
    : renames_(tables.key_renames.begin(), tables.key_renames.end()),
      class_keys_(tables.class_keys.begin(), tables.class_keys.end()),
      priority_(tables.priority.begin(), tables.priority.end()),
      options_(options) {}

int Captioner::rank(std::string_view key) const {
    auto it = priority_.find(key);
    return it == priority_.end() ? static_cast<int>(priority_.size()) : it->second;
}

bool Captioner::append_phrase(std::string& out, const Tag& tag) const {
    const std::size_t start = out.size();
    if (auto it = renames_.find(tag.key); it != renames_.end()) out += it->second;
    else if (!append_caption_text(out, tag.key, TextPart::key, options_.max_key_bytes)) return false;
    if (value_reads_as(tag.value, "yes")) return true;
    out += class_keys_.count(tag.key) ? " " : " of ";
    if (!append_caption_text(out, tag.value, TextPart::value, options_.max_value_bytes)) {
        out.resize(start); // an empty value says nothing: no phrase at all
        return false;
    }
    return true;
}

bool Captioner::append_phrases(std::string& out, TagSet object, std::string_view first_sep, std::string_view other_sep) const {
    // Caption order: priority keys first (stable), then the caller's order. Objects
    // rarely have more than a handful of tags; larger ones use the heap.
    std::array<std::uint16_t, 32> small;
    std::vector<std::uint16_t> large;
    std::span<std::uint16_t> order;
    const std::size_t n = std::min<std::size_t>(object.size(), 65535);
    if (n <= small.size()) order = std::span(small.data(), n);
    else large.resize(n), order = std::span(large);
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint16_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return rank(object[a].key) < rank(object[b].key); });

    std::size_t written = 0;
    for (auto i : order) {
        const std::size_t before = out.size();
        if (written) out += written == 1 ? first_sep : other_sep;
        if (append_phrase(out, object[i])) ++written;
        else out.resize(before);
    }
    return written > 0;
}

std::vector<Tag> Captioner::ordered(TagSet object) const {
    std::vector<Tag> tags(object.begin(), object.end());
    std::stable_sort(tags.begin(), tags.end(), [&](const Tag& a, const Tag& b) { return rank(a.key) < rank(b.key); });
    return tags;
}

bool Captioner::append_single_form(std::string& out, TagSet object) const {
    return append_phrases(out, object, ", ", ", ");
}

bool Captioner::append_multi_form(std::string& out, TagSet object) const {
    return append_phrases(out, object, " with ", " and ");
}

std::string Captioner::title(TagSet focus) const {
    std::string out(caption_prefix);
    if (!append_single_form(out, focus)) out = "a satellite image";
    return out;
}

std::string Captioner::title_multi_objects(TagSet focus, std::span<const TagSet> surrounding) const {
    std::string out(caption_prefix);
    if (!append_multi_form(out, focus)) out = "a satellite image";
    std::vector<std::string> seen;
    std::string phrase;
    for (const auto& object : surrounding) {
        if (seen.size() >= options_.max_surrounding) break;
        phrase.clear();
        if (!append_multi_form(phrase, object)) continue;
        if (std::find(seen.begin(), seen.end(), phrase) != seen.end()) continue;
        out += seen.empty() ? ", surrounded by " : "; ";
        out += phrase;
        seen.push_back(phrase);
    }
    return out;
}

} // namespace skyscript::captions
