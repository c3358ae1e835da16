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

} // namespace skyscript::pipeline
