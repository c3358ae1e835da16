#include "pipeline/common/tile_key.hpp"

#include "pipeline/common/source_identity.hpp"
#include "imagery/url_redaction.hpp"

#include <unordered_map>

#include <cstdio>

namespace skyscript::pipeline {

std::string make_tile_key(const imagery::SourceConfig& s, const imagery::TileGrid& g, int jpeg_quality) {
    std::string key(imagery::kind_name(s.kind));
    key += '|';
    // Keys are stored (state DB, --reuse): a secret in the URL or path (a token, a
    // signature) stays out of them. It does not define the pixels anyway.
    key += imagery::redact_url(s.kind == imagery::SourceKind::gdal ? s.path : s.kind == imagery::SourceKind::xyz ? s.url : s.collection);
    // A local raster's size and time: --reuse must not take pixels of a file since replaced.
    if (s.kind == imagery::SourceKind::gdal) {
        thread_local std::unordered_map<std::string, std::string> file_identity; // one stat per raster, not per job
        auto [it, added] = file_identity.try_emplace(s.path);
        if (added) it->second = raster_file_identity(s);
        if (!it->second.empty()) key += "|file=" + it->second;
    }
    key += "|bands=";
    for (const auto& b : s.bands) key += b + ",";
    char buf[256];
    if (s.stretch) {
        std::snprintf(buf, sizeof buf, "|stretch=%.9g,%.9g", s.stretch->first, s.stretch->second);
        key += buf;
    }
    key += "|dates=" + s.date_start + "," + s.date_end + "|cloud=" + s.cloud_property;
    std::snprintf(buf, sizeof buf, "|tile=%d,%d,%d|grid=%d,%dx%d,%.9g,%.3f,%.3f|q=%d", s.tile_px, s.max_zoom, s.tms ? 1 : 0, g.epsg, g.width,
                  g.height, g.gsd, g.geotransform[0], g.geotransform[3], jpeg_quality);
    return key + buf;
}

} // namespace skyscript::pipeline
