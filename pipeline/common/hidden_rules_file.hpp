#pragma once
// The `--hidden` option: the rules of objects not visible from above that a run uses, read
// from disk (tag_filters/ parses rule text; reading files is pipeline/'s job).

#include "tag_filters/hidden_rules.hpp"

#include <string>

namespace skyscript::pipeline {

// "" is the built-in rules (tag_filters/hidden.tsv); FILE replaces them (an empty file hides
// nothing); +FILE adds to them. Errors (tags::HiddenRulesError) name the file, and the line.
tags::HiddenRules load_hidden_option(const std::string& option, tags::HiddenRules::Reading reading = tags::HiddenRules::Reading::strict);

// What the rules say, as 16 hex digits (each rule as hidden_rules.hpp keeps its text: its
// fields without comments or spacing): the extract records it in the catalog's meta
// ("hidden_digest"), and a rerun naming the same --hidden file compares it
// (catalog/catalog_identity.hpp), so a file edited since is not silently left unused.
std::string hidden_rules_digest(const tags::HiddenRules& rules);

} // namespace skyscript::pipeline
