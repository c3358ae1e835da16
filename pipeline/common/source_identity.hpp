#pragma once
// What defines a source's pixels, so that a build whose sources changed under it is
// refused like any other changed option (docs/reliability.md): a digest of the settings
// that decide pixels and plan (kind, path/URL/collection, bands, stretch, dates, GSD,
// year, coverage, tiling; not the licence or rate limits), and for a local raster the size
// and modification time of its file and of every other local file GDAL reads for it.
// URLs are hashed with their secrets redacted: a rotated token changes no pixels, and no
// digest of it is stored.

#include "imagery/source_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

// One line per source: "ALIAS settings=HEX lines=HEX.HEX... data=STAMP": the settings' digest,
// a short one of each of their lines (to name the setting that changed), and the local
// files' stamp (imagery/local_file_stamp.hpp; data= empty for services).
std::string sources_identity(const std::vector<imagery::SourceConfig>& sources);

// Why `now` differs from `before` (both from sources_identity), in words naming the
// source and, for a raster, the file; nullopt when they are equal, or differ only as an
// older version's stamps do (imagery::stamp_unchanged: the caller then stores `now`).
std::optional<std::string> sources_change(const std::string& before, const std::string& now,
                                          const std::vector<imagery::SourceConfig>& sources);

} // namespace skyscript::pipeline
