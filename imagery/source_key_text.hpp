#pragma once
// The texts a source's pixels are keyed by, in the one layout every kind shares: tile
// keys are stored (state DB, --reuse) and the sources identity is compared on resume, so
// the layout must not change when a kind is added or moved. A kind fills the fields it
// has and leaves the others at their defaults.

#include "imagery/source_config.hpp"

#include <array>
#include <string>
#include <string_view>

namespace skyscript::imagery {

struct SourceKeyFields {
    // What is read; at most one is set. Secrets in URLs are redacted here.
    std::string path, url, collection;
    std::string file_stamp;     // a local file's "SIZE:MTIME_NS" or "missing"; "" for none
    std::string cloud_property; // how images are chosen in a collection
    // How a tiled service is read.
    int tile_px = 256;
    int max_zoom = 22;
    bool tms = false;
};

// "KIND|WHAT[|file=STAMP]|bands=..|stretch=..|dates=..|cloud=..|tile=PX,ZOOM,TMS".
std::string source_tile_key_text(std::string_view kind, const SourceConfig& source, const SourceKeyFields& fields);
// The lines digested by the sources identity (not the licence or the rate limits).
std::string source_identity_text(std::string_view kind, const SourceConfig& source, const SourceKeyFields& fields);
// What each of those lines holds, in order, as a changed one is named to the user.
inline constexpr std::array<std::string_view, 12> source_identity_line_names = {
    "kind", "path", "url or api", "collection, assets or sortby", "cloud_property or max_cloud", "gsd", "year", "dates", "coverage",
    "bands", "stretch", "tile_px, max_zoom or tms"};

} // namespace skyscript::imagery
