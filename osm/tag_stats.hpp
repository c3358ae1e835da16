#pragma once
// `tags --stats`: how often each vocabulary entry occurs in an input, and which tags
// of the input the vocabulary does not know (neither listed nor denied), most
// frequent first: the numbers a whitelist designer needs.

#include "tag_matcher.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace skyscript::osm {

struct TagStats {
    std::vector<std::uint64_t> entry_objects;  // per vocabulary entry (index = entry order)
    std::vector<std::pair<std::string, std::uint64_t>> unknown_tags; // key=value, most frequent first
    std::vector<std::pair<std::string, std::uint64_t>> unknown_keys; // key, most frequent first
    std::uint64_t objects = 0, tagged_objects = 0, candidate_objects = 0;
};

// One pass over nodes, ways and relations; no geometry. `top` bounds the unknown lists.
TagStats collect_tag_stats(const std::string& input, const tags::TagMatcher& matcher, std::size_t top,
                           const std::function<void(std::uint64_t done, std::uint64_t total)>& on_progress = {});

} // namespace skyscript::osm
