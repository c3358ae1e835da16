#pragma once
// What the pipeline suites share: Monaco's catalog and a 0.5 m rendering of it
// (tests/render_osm_raster.sh), made once per test binary, and the bare command on it.

#include "test_support.hpp"

#include <string>

namespace skyscript::test {

inline const std::string monaco_box = "7.405,43.723,7.44,43.753";

struct Rendering {
    std::string dir, catalog, raster, sources;
};

const Rendering& monaco();
// z17 XYZ tiles (PNG) of the rendering, made once by gdal2tiles (GDAL's own tiler): DIR/{z}/{x}/{y}.png.
const std::string& rendering_tiles();

// skyscript-build MONACO.osm.pbf -o OUT --sources (the rendering) EXTRA, bounded by `timeout`.
CommandResult build(const std::string& out, const std::string& extra);

} // namespace skyscript::test
