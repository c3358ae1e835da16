#include "tag_filters/visible_tags.hpp"


#include <optional>

namespace skyscript::tags {

std::string_view drop_reason_text(DropReason reason) noexcept {
    switch (reason) {
        case DropReason::denied: return "denied key";
        case DropReason::not_listed: return "not in the vocabulary";
        case DropReason::finer_than_gsd: return "not visible at this GSD";
        case DropReason::no_feature: return "no feature tag left";
    }
    return "?";
}

std::vector<TagView> visible_tags(const TagMatcher& matcher, std::span<const TagView> tags, double gsd,
                                  std::vector<DroppedTag>* dropped) {
    std::vector<TagView> kept;
    kept.reserve(tags.size());
    std::vector<std::size_t> kept_index;
    bool has_feature = false;
    for (std::size_t i = 0; i < tags.size(); ++i) {
        const auto& [key, value] = tags[i];
        const TagEntry* entry = matcher.find(key, value);
        std::optional<DropReason> reason;
        if (!entry) reason = matcher.denied(key) ? DropReason::denied : DropReason::not_listed;
        else if (!shown_at_gsd(entry->max_gsd, gsd)) reason = DropReason::finer_than_gsd;
        if (reason) {
            if (dropped) dropped->push_back({i, *reason});
            continue;
        }
        has_feature |= entry->role == Role::feature;
        kept.push_back(tags[i]);
        if (dropped) kept_index.push_back(i);
    }
    if (!has_feature) {
        for (auto i : kept_index) dropped->push_back({i, DropReason::no_feature});
        kept.clear();
    }
    return kept;
}

} // namespace skyscript::tags
