#pragma once
// What defines a source's pixels, so that a build whose sources changed under it is
// refused like any other changed option (docs/reliability.md): a digest of the settings
// that decide pixels and plan (kind, path/URL/collection, bands, stretch, dates, GSD,
// year, coverage, tiling; not the licence or rate limits), and for a local raster file its
// size and modification time. URLs are hashed with their secrets redacted: a rotated token
// changes no pixels, and no digest of it is stored.

#include "imagery/source_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

// One line per source: "ALIAS settings=HEX data=SIZE:MTIME_NS" (data= empty for services).
std::string sources_identity(const std::vector<imagery::SourceConfig>& sources);

// A local raster's "SIZE:MTIME_NS" ("missing" when it is not there); "" for services and remote paths.
std::string raster_file_identity(const imagery::SourceConfig& source);

// Why `now` differs from `before` (both from sources_identity), in words naming the
// source and, for a raster, the file; nullopt when they are equal.
std::optional<std::string> sources_change(const std::string& before, const std::string& now,
                                          const std::vector<imagery::SourceConfig>& sources);

} // namespace skyscript::pipeline
