#include "pipeline/common/tile_key.hpp"

#include "imagery/source_kind.hpp"

#include <cstdio>

namespace skyscript::pipeline {

std::string make_tile_key(const imagery::SourceConfig& s, const imagery::TileGrid& g, int jpeg_quality) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "|grid=%d,%dx%d,%.9g,%.3f,%.3f|q=%d", g.epsg, g.width, g.height, g.gsd, g.geotransform[0],
                  g.geotransform[3], jpeg_quality);
    return s.kind->tile_key_part(s) + buf;
}

} // namespace skyscript::pipeline
