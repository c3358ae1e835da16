#pragma once
// The imagery sources of a build (`--sources FILE`, or the built-in list), made ready for
// planning and fetching: what the data tells where the config gives none (a gdal
// raster's own GSD and footprint), and the acquisition year every file name needs (a
// kind whose images tell it, like Earth Engine, may leave it out; others must say `year`).

#include "imagery/source_config.hpp"

#include <map>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct BuildSource {
    imagery::SourceConfig config;
    double gsd = 0; // metres per pixel of the tiles we cut
};

// `--sources open`: the open presets (imagery::open_sources), unless a file of that name exists.
inline constexpr const char* open_sources_option = "open";

// `option`: "" for the built-in sources, "open" for the open presets, else a TOML file.
// Throws naming the file and source. With `unreadable`, a source whose data cannot be read
// now (a remote raster's server down) is kept as configured and named there with the reason,
// instead of stopping the caller (the fetch goes on with the other sources).
std::vector<BuildSource> load_build_sources(const std::string& option, std::map<std::string, std::string>* unreadable = nullptr);
// The source of `sources` with this alias, or nullptr (a state DB naming one the configuration lost).
const BuildSource* find_build_source(const std::vector<BuildSource>& sources, const std::string& alias);

// The coarsest GSD among `sources`, or among the sources of `option` (0 when there is none).
double coarsest_source_gsd(const std::vector<BuildSource>& sources);
double coarsest_source_gsd(const std::string& option);
// The same sources as configured, nothing opened or resolved.
std::vector<imagery::SourceConfig> configured_sources(const std::string& option);

} // namespace skyscript::pipeline
