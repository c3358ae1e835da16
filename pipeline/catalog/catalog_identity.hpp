#pragma once
// What makes OUT/catalog.gpkg the catalog a build was planned from, so that one replaced under
// a planned build (another extract copied in, a re-extract with other options) is refused like
// a changed source (docs/reliability.md) instead of mixing two datasets: the report would name
// the new one, and fallback jobs would place its objects by the old plan's fids. It is the
// catalog's skyscript_meta (input, its size, region, tags, sampling, counts) less when it was
// made and the node index it was read with: a re-extract of the same input with the same
// options is the same catalog row for row (and a resumed build's state DB the same as an
// uninterrupted one's).

#include "tag_filters/tag_list.hpp"

#include <map>
#include <string>

namespace skyscript::pipeline {

// The identity as one line of JSON (keys in order), what the state DB keeps.
std::string catalog_identity(const std::map<std::string, std::string>& meta);

// Two identities of the same catalog (compared as JSON objects).
bool same_catalog(const std::string& a, const std::string& b);

// The one-line error for OUT's catalog `now` where the plan was made from `before`.
std::string catalog_changed_error(const std::string& out_dir, const std::string& catalog_path, const std::string& state_path,
                                  const std::string& before, const std::string& now);

// Throws one line when `list`, read now from the --tags `option` the catalog was extracted with
// (its meta's "tags"), holds other entries than it held then ("tags_digest"): the file was
// edited in place, and a plan or a fallback with it would caption and ground the catalog's
// objects by another vocabulary than the one that chose them. A catalog without the digest
// (older), or a plan given another list on purpose, is not checked.
void check_tag_list_unchanged(const std::map<std::string, std::string>& meta, const std::string& catalog_path, const std::string& option,
                              const tags::TagList& list);

} // namespace skyscript::pipeline
