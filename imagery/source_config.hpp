#pragma once
// Imagery sources: the TOML configuration (`--sources FILE`, docs/sources.md) and the
// built-in defaults (SkyScript's ten Earth Engine collections, default_sources.toml).

#include "imagery/tile_grid.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace skyscript::imagery {

class SourceConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class SourceKind { earthengine, gdal, xyz };
std::string_view kind_name(SourceKind kind) noexcept;

struct SourceConfig {
    std::string alias;                 // 1-8 characters [A-Za-z0-9]: it goes into file names
    SourceKind kind = SourceKind::gdal;
    double gsd = 0;                    // metres; required unless a gdal raster tells it
    std::optional<int> year;           // acquisition year where the source cannot tell it
    LonLatBox coverage{-180, -90, 180, 90};
    bool coverage_given = false;       // `coverage` in the TOML; else gdal sources take the raster's footprint
    std::string date_start, date_end;  // ISO dates, "" = open
    std::vector<std::string> bands;    // EE band names or 1-based gdal band numbers, R,G,B
    std::optional<std::pair<double, double>> stretch; // value range mapped to 0..255
    std::string licence;
    // earthengine
    std::string collection, project, endpoint = "https://earthengine-highvolume.googleapis.com", cloud_property;
    // gdal
    std::string path;
    // xyz
    std::string url;                   // {z} {x} {y} or {q}; {-y} or tms = true for TMS rows
    bool tms = false;
    int tile_px = 256;
    int max_zoom = 22;
    // all network kinds
    double requests_per_second = 0;    // 0: the kind's default
    int max_in_flight = 0;

    bool covers(double lon, double lat) const noexcept;
};

// Parses sources TOML; `origin` names the file in errors ("my.toml:7: source 2 (X): ...").
// Every key is checked: unknown keys (with the nearest known one suggested), keys of
// another kind, and values of the wrong type are errors naming the key's line.
// Reads no file: a gdal source without `coverage` keeps the whole world until
// resolve_gdal_coverage.
std::vector<SourceConfig> parse_sources(std::string_view toml_text, const std::string& origin);
std::vector<SourceConfig> load_sources_file(const std::string& path);
std::vector<SourceConfig> builtin_sources();

// For a gdal source without `coverage`: opens the raster and takes its own lon/lat
// footprint (describe_raster), and its native GSD when `gsd` is not set. Run it on each
// source before deciding what it covers. Other kinds and given coverages are left as
// they are. Throws RasterError naming the file when the raster cannot be opened.
void resolve_gdal_coverage(SourceConfig& source);

} // namespace skyscript::imagery
