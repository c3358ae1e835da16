#pragma once
// The tag-list format and its parser (pipeline/ reads the files: tag_list_file.hpp).
//
//   # comment
//   key=value <TAB> feature|attribute <TAB> max_gsd_m
//   key=*     <TAB> feature|attribute <TAB> max_gsd_m
//   key       <TAB> deny              (key may end in `*`: a prefix, e.g. addr:*)
//
// Fields are separated by tabs or spaces. Errors name the source and line.

#include "tag_filters/tag_entry.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::tags {

class TagListError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TagList {
public:
    // Parses list text; `source` names it in error messages ("tags.tsv").
    static TagList parse(std::string_view text, const std::string& source);
    // The built-in default vocabulary (tag_filters/default_tags.tsv).
    static TagList builtin();

    // Adds `other`'s entries: same key=value replaces ours (its role and GSD win).
    void merge(const TagList& other);

    const std::vector<TagEntry>& entries() const noexcept { return entries_; }
    std::size_t count(Role role) const noexcept;

private:
    std::vector<TagEntry> entries_;
};

// English names of tags (tag_names.tsv: key=value<TAB>name), generated with the vocabulary.
std::string_view builtin_tag_names();

} // namespace skyscript::tags
