#include "captions/caption_styles.hpp"

#include <stdexcept>

namespace skyscript::captions {

// One line per style (its file defines it); the first always runs.
extern const CaptionStyleKind rule_style;    // rule_style.cpp
extern const CaptionStyleKind natural_style; // natural_style.cpp

namespace {

const CaptionStyleKind* const registered[] = {
    &rule_style,
    &natural_style,
};

} // namespace

std::span<const CaptionStyleKind* const> caption_style_kinds() { return registered; }

const CaptionStyleKind* find_caption_style(std::string_view name) {
    for (const auto* kind : registered)
        if (kind->name == name) return kind;
    return nullptr;
}

std::string caption_style_choices() {
    std::string out;
    const std::size_t n = std::size(registered);
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out += i + 1 == n ? " or " : ", ";
        out += registered[i]->name;
    }
    return out;
}

std::vector<std::string_view> all_caption_fields() {
    std::vector<std::string_view> out;
    for (const auto* kind : registered) out.insert(out.end(), kind->fields.begin(), kind->fields.end());
    const auto polished = polished_caption_fields();
    out.insert(out.end(), polished.begin(), polished.end());
    return out;
}

namespace {
constexpr std::string_view polished_fields[] = {"title_polished", "title_multi_objects_polished"};
constexpr std::string_view polished_suffix = "_polished";
} // namespace

std::span<const std::string_view> polished_caption_fields() { return polished_fields; }

std::string_view polished_source_field(std::string_view field) {
    for (const auto f : polished_fields)
        if (f == field) return field.substr(0, field.size() - polished_suffix.size());
    return {};
}

std::vector<const CaptionStyleKind*> CaptionStyles::selected(std::string_view name) {
    const auto* chosen = find_caption_style(name);
    if (!chosen) throw std::invalid_argument("no caption style `" + std::string(name) + "` (expected " + caption_style_choices() + ")");
    std::vector<const CaptionStyleKind*> out{registered[0]};
    if (chosen != registered[0]) out.push_back(chosen);
    return out;
}

std::vector<std::string_view> CaptionStyles::fields(std::string_view name) {
    std::vector<std::string_view> out;
    for (const auto* kind : selected(name)) out.insert(out.end(), kind->fields.begin(), kind->fields.end());
    return out;
}

CaptionStyles::CaptionStyles(std::string_view name, const CaptionResources& resources) {
    for (const auto* kind : selected(name)) styles_.push_back(kind->make(resources));
}

void CaptionStyles::caption(TagSet focus, std::span<const TagSet> surrounding, CaptionEntries& out) const {
    out.clear();
    for (const auto& style : styles_) style->caption(focus, surrounding, out);
}

} // namespace skyscript::captions
