#pragma once
// The natural caption style, beyond SkyScript (its README asks for it):
//   "a satellite image of a parking lot with an asphalt surface, next to a
//    residential road and two buildings"
// built from human names of tags (a NameTable the caller supplies, e.g. from the
// iD tagging schema), with articles, counts and plurals. Same contract as
// Captioner: tags already filtered to those groundable at the image's GSD, the
// focus object's feature tag first, surroundings most prominent first.

#include "captions/caption_tables.hpp"
#include "captions/captioner.hpp"

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace skyscript::captions {

class NameTable {
public:
    // Lines `key=value<TAB>name` (`key=*` names the key itself); `#` comments.
    static NameTable parse(std::string_view text);
    // Name of key=value, else nullptr.
    const std::string* find(std::string_view key, std::string_view value) const;

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> names_;
};

class NaturalCaptioner {
public:
    explicit NaturalCaptioner(const NameTable& names, const CaptionTables& tables = CaptionTables::builtin(),
                              CaptionOptions options = {});

    std::string title(TagSet focus) const;
    std::string title_multi_objects(TagSet focus, std::span<const TagSet> surrounding) const;

    // "parking lot" for amenity=parking: the object's head noun, singular, no article.
    std::string noun(TagSet object) const;

private:
    std::string object_phrase(TagSet object) const; // "a parking lot with an asphalt surface"
    std::string attribute_phrase(const Tag& tag) const;
    std::string name_of(const Tag& tag) const;

    const NameTable& names_;
    Captioner rules_; // tag order (priority table) and text cleaning, shared with the rule style
    CaptionOptions options_;
    std::unordered_set<std::string> adjective_keys_;
};

// English helpers, exposed for tests.
std::string with_article(const std::string& noun_phrase);  // "an asphalt surface"
std::string plural(const std::string& noun_phrase);        // "places of worship", "benches"
std::string count_phrase(std::size_t n, const std::string& noun_phrase); // "two buildings"

} // namespace skyscript::captions
