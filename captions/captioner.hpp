#pragma once
// SkyScript's rule-based captions (docs/captions.md): tags in, strings out, no I/O.
//
//   title               = "a satellite image of " + single form of the focus object
//   title_multi_objects = "a satellite image of " + multi form of the focus
//                         + ", surrounded by " + multi forms of the distinct
//                           surrounding objects, joined by "; "
//
// A tag's phrase: value "yes" -> the key alone ("building"); a class key (power,
// natural, man_made) -> "{key} {value}" ("power pole"); otherwise "{key} of {value}"
// ("landuse of quarry"). Keys may be renamed (highway -> road). An object's tags are
// ordered by the feature-key priority table, then as given. Single form joins its
// phrases with ", "; multi form is "first with second and third ...".
//
// Contract with the caller (the planner): pass only tags that are groundable at the
// image's GSD -- drop the others before calling -- and pass surrounding objects most
// prominent first. Captions never contain a newline, tab or invalid UTF-8, so they are
// CSV-safe with RFC 4180 quoting.

#include "captions/caption_tables.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::captions {

struct Tag {
    std::string_view key, value;
};
using TagSet = std::span<const Tag>;

struct CaptionOptions {
    std::size_t max_surrounding = 5;   // distinct surrounding objects named in title_multi_objects
    std::size_t max_value_bytes = 64;  // longer values are cut (at a character boundary) and end in "..."
    std::size_t max_key_bytes = 48;
};

inline constexpr std::string_view caption_prefix = "a satellite image of ";

class Captioner {
public:
    explicit Captioner(const CaptionTables& tables = CaptionTables::builtin(), CaptionOptions options = {});

    std::string title(TagSet focus) const;
    std::string title_multi_objects(TagSet focus, std::span<const TagSet> surrounding) const;

    // The bodies, appended to `out`; they return false when no tag gave a phrase.
    bool append_single_form(std::string& out, TagSet object) const;
    bool append_multi_form(std::string& out, TagSet object) const;

    const CaptionOptions& options() const noexcept { return options_; }
    // The object's tags in caption order: priority keys first (stable), then as given.
    std::vector<Tag> ordered(TagSet object) const;

private:
    // Appends the phrases of `object` in caption order, separated as the form wants.
    bool append_phrases(std::string& out, TagSet object, std::string_view first_sep, std::string_view other_sep) const;
    bool append_phrase(std::string& out, const Tag& tag) const;
    int rank(std::string_view key) const;

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> renames_;
    std::unordered_set<std::string, Hash, std::equal_to<>> class_keys_;
    std::unordered_map<std::string, int, Hash, std::equal_to<>> priority_;
    CaptionOptions options_;
};

} // namespace skyscript::captions
