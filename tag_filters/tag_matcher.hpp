#pragma once
// Answers "is key=value visually groundable, as what, down to which GSD?"
// One hash lookup per tag (two for a listed key); keys not in the list (or denied) are ignored.

#include "tag_filters/string_table.hpp"
#include "tag_filters/tag_list.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::tags {

// Whether a value holds a character a caption shows: not only spaces, controls, `_` and `;`.
bool says_something(std::string_view value) noexcept;

class TagMatcher {
public:
    explicit TagMatcher(const TagList& list);

    // The entry for this tag, or nullptr when it is not groundable: unknown key,
    // denied key, unlisted value, or against a `key=*` entry the value "no" or one that
    // says nothing (says_something).
    const TagEntry* find(std::string_view key, std::string_view value) const noexcept;

    bool denied(std::string_view key) const noexcept;
    const std::vector<TagEntry>& entries() const noexcept { return entries_; }

private:
    struct KeyRule {
        const TagEntry* any = nullptr;
        StringTable<const TagEntry*> values;
    };

    std::vector<TagEntry> entries_;
    StringTable<KeyRule> keys_;
    std::vector<std::string> deny_exact_;
    std::vector<std::string> deny_prefix_;
};

} // namespace skyscript::tags
