#pragma once
// `tags --stats`: how often each vocabulary entry occurs in an input, and which tags
// of the input the vocabulary does not know (neither listed nor denied), most
// frequent first: the numbers a whitelist designer needs.

#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_matcher.hpp"

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
    std::uint64_t hidden_candidates = 0; // of the candidates, those the hidden rules leave out
    std::uint64_t unreadable_tags = 0;   // objects whose tags a NUL byte left unsplittable (tag_list_guard.hpp)
};

// One pass over nodes, ways and relations; no geometry (a way's kind, line or area, comes
// from its tags and whether it is closed, as in the extract). `top` bounds the unknown lists;
// the blobs are decoded on decoder_threads(cores) threads.
TagStats collect_tag_stats(const std::string& input, const tags::TagMatcher& matcher, const tags::HiddenRules& hidden, std::size_t top, int cores,
                           const std::function<void(std::uint64_t done, std::uint64_t total)>& on_progress = {});

} // namespace skyscript::osm
