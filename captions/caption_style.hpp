#pragma once
// A caption style: the named caption fields it adds to a job ("title", "title_multi_objects")
// and how it writes them for one object. Styles are registered in caption_styles.cpp; a job
// carries the captions of the styles that ran as named entries, in registration order, and
// the CSV columns, meta keys and state DB columns follow from the fields of the registered styles.

#include "captions/captioner.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::captions {

struct CaptionEntry {
    std::string field, text;
};
using CaptionEntries = std::vector<CaptionEntry>;

// What a style may need to build itself: the shared options, and the human names of tags
// (lines `key=value<TAB>name`, e.g. tags::builtin_tag_names()) for the styles that speak English.
struct CaptionResources {
    CaptionOptions options;
    std::string_view tag_names;
};

class CaptionStyle {
public:
    virtual ~CaptionStyle() = default;
    // Appends one entry per field of the style's kind, in that order. Same contract as
    // Captioner: tags already filtered to those groundable at the image's GSD, surroundings
    // most prominent first.
    virtual void caption(TagSet focus, std::span<const TagSet> surrounding, CaptionEntries& out) const = 0;
};

// A registered style: what `--caption-style NAME` names, the fields it adds, how it is made.
// Field names become SQL column names and CSV headers: lowercase letters, digits and `_`.
struct CaptionStyleKind {
    std::string_view name;
    std::span<const std::string_view> fields;
    std::unique_ptr<CaptionStyle> (*make)(const CaptionResources& resources);
};

} // namespace skyscript::captions
