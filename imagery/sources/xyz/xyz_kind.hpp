#pragma once
// The `xyz` source kind: tiles of a URL template through the HTTP engine (xyz_source.hpp).

#include "imagery/source_kind.hpp"

#include <string>

namespace skyscript::imagery {

struct XyzSettings : SourceSettings {
    std::string url;  // {z} {x} {y} or {q}; {-y} or tms = true for TMS rows
    bool tms = false;
    int tile_px = 256;
    int max_zoom = 22;
};

const SourceKind& xyz_kind();

// An xyz source built in code (benchmarks, tests) rather than read from TOML.
SourceConfig xyz_source(std::string alias, std::string url, double gsd, int max_zoom);

} // namespace skyscript::imagery
