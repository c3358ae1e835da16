#include "tag_filters/tag_matcher.hpp"
#include "tag_filters/utf8_text.hpp"


#include <algorithm>

namespace skyscript::tags {

TagMatcher::TagMatcher(const TagList& list) : entries_(list.entries()) {
    for (const auto& e : entries_) {
        if (e.role != Role::deny) continue;
        if (!e.key.empty() && e.key.back() == '*') deny_prefix_.push_back(e.key.substr(0, e.key.size() - 1));
        else deny_exact_.push_back(e.key);
    }
    // Denied keys never enter the lookup table, so find() needs no deny check.
    for (const auto& e : entries_) {
        if (e.role == Role::deny || denied(e.key)) continue;
        auto& rule = keys_.insert(e.key);
        if (e.value == "*") rule.any = &e;
        else if (auto& entry = rule.values.insert(e.value); !entry) entry = &e; // the first of a value stays
    }
}

bool TagMatcher::denied(std::string_view key) const noexcept {
    if (std::find(deny_exact_.begin(), deny_exact_.end(), key) != deny_exact_.end()) return true;
    return std::any_of(deny_prefix_.begin(), deny_prefix_.end(),
                       [&](const std::string& p) { return key.starts_with(p); });
}

const TagEntry* TagMatcher::find(std::string_view key, std::string_view value) const noexcept {
    const KeyRule* rule = keys_.find(key);
    if (!rule || value.empty()) return nullptr;
    if (!rule->values.empty()) {
        if (const auto* v = rule->values.find(value)) return *v;
    }
    if (rule->any && value != "no" && says_something(value)) return rule->any;
    return nullptr;
}

bool says_something(std::string_view value) noexcept {
    // What a caption makes of a value (captions/caption_text.hpp): `_` a space, `;` a
    // separator, controls and line breaks spaces, bidi controls and invisible characters
    // nothing. `building=_`, `=;;;` or `=` + a zero-width space captioned "a satellite image" alone.
    for (std::size_t i = 0; i < value.size();) {
        unsigned cp = 0;
        const std::size_t n = decode_utf8(value, i, cp);
        if (n == 0) return true; // an invalid byte shows as U+FFFD
        i += n;
        const bool blank = cp == ' ' || cp == '_' || cp == ';' || other_space(cp) || breaks_one_line(cp) || reorders_text(cp) || invisible_text(cp);
        if (!blank) return true;
    }
    return false;
}

} // namespace skyscript::tags
