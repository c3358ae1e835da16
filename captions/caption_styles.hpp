#pragma once
// The registry of caption styles (caption_style.hpp), one line each in caption_styles.cpp.
// The first registered style (rule) always runs; `--caption-style NAME` adds style NAME.
// Registration order is the order of caption fields everywhere: a job's entries, the CSV
// columns, the meta.jsonl keys and the state DB's columns.

#include "captions/caption_style.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::captions {

std::span<const CaptionStyleKind* const> caption_style_kinds();
// nullptr for a name no style is registered under.
const CaptionStyleKind* find_caption_style(std::string_view name);
// "rule or natural": the names `--caption-style` takes, for its usage message.
std::string caption_style_choices();
// Every registered style's fields, in registration order, then the polished fields (the state
// DB's caption columns).
std::vector<std::string_view> all_caption_fields();
// The language-polished versions of the always-run style's fields, made by the polish stage
// (pipeline/polish/) from a language model's answer: "title_polished", "title_multi_objects_polished".
std::span<const std::string_view> polished_caption_fields();
// "title" for "title_polished": the field a polished field rewrites ("" for any other name).
std::string_view polished_source_field(std::string_view polished_field);

// The styles `--caption-style NAME` runs (NAME must be registered: find_caption_style).
class CaptionStyles {
public:
    CaptionStyles(std::string_view name, const CaptionResources& resources);
    // The fields the styles add, in order: the CSV's caption columns.
    static std::vector<std::string_view> fields(std::string_view name);
    // Replaces `out` with the captions of one object, every style's fields in order.
    void caption(TagSet focus, std::span<const TagSet> surrounding, CaptionEntries& out) const;

private:
    static std::vector<const CaptionStyleKind*> selected(std::string_view name);
    std::vector<std::unique_ptr<CaptionStyle>> styles_;
};

} // namespace skyscript::captions
