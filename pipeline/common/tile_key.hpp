#pragma once
// What a job's image depends on, as one string (docs/sources.md): the source's part,
// as its kind writes it (SourceKind::tile_key_part: kind; path, URL template or
// collection; a local raster file's size and modification time; bands, stretch, dates,
// cloud property, tile size, zoom cap) and the tile's pixel grid (CRS, size, GSD, origin
// to the millimetre),
// and the JPEG quality. Two jobs with the same key get the same bytes, so a rebuild with
// another tag list or a newer OSM snapshot takes finished images by key (--reuse) instead
// of fetching them again. The alias is not part of it: renaming a source changes file
// names, not pixels, and nor are the secrets of a URL (redacted, see url_redaction.hpp).

#include "imagery/source_config.hpp"
#include "imagery/tile_grid.hpp"

#include <string>
#include <string_view>

namespace skyscript::pipeline {

std::string make_tile_key(const imagery::SourceConfig& source, const imagery::TileGrid& grid, int jpeg_quality);
// The same, from the source's part made once (the plan makes a key a job, all of a few sources).
std::string make_tile_key(std::string_view source_part, const imagery::TileGrid& grid, int jpeg_quality);

} // namespace skyscript::pipeline
