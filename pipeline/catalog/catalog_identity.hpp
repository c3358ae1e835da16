#pragma once
// What makes OUT/catalog.gpkg the catalog a build was planned from, so that one replaced under
// a planned build (another extract copied in, a re-extract with other options) is refused like
// a changed source (docs/reliability.md) instead of mixing two datasets: the report would name
// the new one, and fallback jobs would place its objects by the old plan's fids. It is the
// catalog's skyscript_meta (input, its size, region, tags, sampling, counts) less when it was
// made and the node index it was read with: a re-extract of the same input with the same
// options is the same catalog row for row (and a resumed build's state DB the same as an
// uninterrupted one's). The input's path is left out when two are compared: the input moved
// and extracted again is the same catalog.

#include "tag_filters/tag_list.hpp"

#include <map>
#include <string>

namespace skyscript::pipeline {

// The identity as one line of JSON (keys in order), what the state DB keeps.
std::string catalog_identity(const std::map<std::string, std::string>& meta);

// The keys in which two identities differ ("tags_digest, objects"; "" for the same catalog),
// once what cannot tell them apart is left out: the input's path (an input moved or renamed is
// the same input: the session refuses other bytes under the recorded path, and its size and the
// counts stay in the identity, so a catalog extracted again from the new path is the plan's),
// and the keys only `now` has (a newer version records more, e.g. hidden_digest: an older
// plan's identity cannot say what they were). `both_only`: the keys only `planned_from` has
// are left out too (two shards made by different versions, in either order).
std::string catalog_differences(const std::string& planned_from, const std::string& now, bool both_only = false);

// Throws one line when the catalog whose meta is `meta` is not the one OUT's plan was made from
// (`planned_from`, as the state DB keeps it; "" for a build planned before it was recorded,
// which is not checked).
void check_same_catalog(const std::string& planned_from, const std::map<std::string, std::string>& meta, const std::string& out_dir,
                        const std::string& catalog_path, const std::string& state_path);

// Throws one line when `list`, read now from the --tags `option` the catalog was extracted with
// (its meta's "tags"), holds other entries than it held then ("tags_digest"): the file was
// edited in place, and a plan or a fallback with it would caption and ground the catalog's
// objects by another vocabulary than the one that chose them. A catalog without the digest
// (older), or a plan given another list on purpose, is not checked.
void check_tag_list_unchanged(const std::map<std::string, std::string>& meta, const std::string& catalog_path, const std::string& option,
                              const tags::TagList& list);

// Throws one line when a --hidden FILE or --polygon FILE given to this run is the one the
// catalog was extracted with (its meta's "hidden_rules", "region") but says something else now
// ("hidden_digest", "region_digest"): the file was edited in place, and a rerun would finish
// the dataset from the catalog of the old rules or region without a word. "" (not given this
// run), another file (refused as a changed option) and a catalog without the digests (older)
// are not checked.
void check_extract_files_unchanged(const std::map<std::string, std::string>& meta, const std::string& catalog_path, const std::string& hidden,
                                   const std::string& polygon);

} // namespace skyscript::pipeline
