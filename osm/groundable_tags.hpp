#pragma once
// Picks an object's groundable tags (those in the vocabulary) and its focus tag.

#include "osm/catalog_row.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <osmium/osm/tag.hpp>

namespace skyscript::osm {

// Fills row.tags_json, row.focus_tag and row.max_gsd. Returns false (row untouched)
// when the object has no groundable feature tag, i.e. is not a catalog object.
// The focus tag is the feature visible at the coarsest GSD; ties go to the earlier
// vocabulary entry.
bool select_groundable_tags(const osmium::TagList& tags, const tags::TagMatcher& matcher, CatalogRow& row);

// JSON string body for `s`: quotes, backslashes and control characters escaped,
// invalid UTF-8 bytes replaced by U+FFFD, so the catalog always holds valid JSON.
void append_json_string(std::string& out, std::string_view s);

} // namespace skyscript::osm
