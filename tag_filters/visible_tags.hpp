#pragma once
// Which of an object's tags reach a caption (and the meta) of an image at a given GSD.
// One rule for the planner (focus and surrounding objects alike) and the `caption`
// command, so what a user tries is what the dataset gets:
//   - a tag is kept only if the vocabulary lists it (feature or attribute); denied keys,
//     unknown keys and unlisted values are dropped;
//   - a tag whose max GSD is finer than the image's is dropped (not visible there), unless
//     it is of the top class (shown_at_gsd); the planner only picks a GSD at which the
//     focus tag itself is visible;
//   - when no feature tag is left the object gives nothing: attributes alone describe
//     nothing visible, so such a surrounding object is left out, and such a focus object
//     is never a candidate.
// Kept tags stay in the caller's order (the captioners order them). gsd 0: no GSD test.

#include "tag_filters/tag_matcher.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::tags {

using TagView = std::pair<std::string_view, std::string_view>; // key, value

enum class DropReason : std::uint8_t {
    denied,            // the key is on the deny list (name, addr:*, layer, ...)
    not_listed,        // unknown key, unlisted value, or `no` against `key=*`
    finer_than_gsd,    // visible only at a finer GSD than the image's
    no_feature,        // the object keeps no feature tag, so none of its tags is shown
};

std::string_view drop_reason_text(DropReason reason) noexcept;

// The coarsest of the GSD classes (0.1, 0.2, 0.6, 1, 10 m). It reads "10 m or coarser", as
// the paper's coarsest class means "visible in any collection": a lake or a forest shows
// on Landsat's 30 m as well as on Sentinel-2's 10 m.
inline constexpr double top_gsd_class = 10;

// Whether a tag visible down to `max_gsd` metres shows on an image of `gsd` metres: when
// `gsd` is at most `max_gsd`, or always for a tag of the top class. A tile's GSD comes out
// of arithmetic (side / pixels): 0.6000001 still shows 0.6 m tags.
inline bool shown_at_gsd(double max_gsd, double gsd) noexcept {
    return max_gsd >= top_gsd_class * (1 - 1e-6) || max_gsd >= gsd * (1 - 1e-6);
}

// The coarsest GSD at which a tag of `max_gsd` may be imaged by sources at most
// `coarsest_source_gsd` coarse: its own max GSD, or for the top class the coarsest source's.
inline double coarsest_shown_gsd(double max_gsd, double coarsest_source_gsd) noexcept {
    return max_gsd >= top_gsd_class * (1 - 1e-6) && coarsest_source_gsd > max_gsd ? coarsest_source_gsd : max_gsd;
}

struct DroppedTag {
    std::size_t index;  // position in the input
    DropReason reason;
};

// The tags of `tags` that reach a caption of an image of `gsd` metres (views into
// `tags`). `dropped`, when given, receives every other tag with its reason.
std::vector<TagView> visible_tags(const TagMatcher& matcher, std::span<const TagView> tags, double gsd,
                                  std::vector<DroppedTag>* dropped = nullptr);

} // namespace skyscript::tags
