#pragma once
// The `--tags` option: the vocabulary a run uses, read from disk. tag_filters/ parses
// list text; reading files is pipeline/'s job (README, "Design in one screen").

#include "tag_filters/tag_list.hpp"

#include <string>

namespace skyscript::pipeline {

// "" is the built-in vocabulary; FILE replaces it (and must have a feature entry);
// +FILE adds to and overrides it. Errors (tags::TagListError) name the file, and the
// line of a malformed entry.
tags::TagList load_tag_option(const std::string& option);

// What a tag list holds, as 16 hex digits (every entry's key, value, role and GSD, in order):
// the extract records it in the catalog's meta ("tags_digest"), and a later stage that reads
// the same --tags file again compares (a file edited in place between runs would mix two
// vocabularies in one dataset: catalog/catalog_identity.hpp).
std::string tag_list_digest(const tags::TagList& list);

} // namespace skyscript::pipeline
