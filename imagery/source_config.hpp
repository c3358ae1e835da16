#pragma once
// Imagery sources: the TOML configuration (`--sources FILE`, docs/sources.md) and the
// built-in defaults (SkyScript's ten Earth Engine collections, default_sources.toml).
// What every source has is here; what only one kind has is that kind's settings, in its
// folder under imagery/sources/ (see source_kind.hpp).

#include "imagery/coverage_shape.hpp"
#include "imagery/tile_grid.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace skyscript::imagery {

class SourceKind;

class SourceConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A kind's own settings (the collection of an Earth Engine source, the path of a gdal
// raster, the URL template of an xyz source); each kind derives its struct from this.
struct SourceSettings {
    virtual ~SourceSettings() = default;
};

struct SourceConfig {
    std::string alias;                 // 1-8 characters [A-Za-z0-9]: it goes into file names
    const SourceKind* kind = nullptr;  // how the source is read (source_kinds())
    double gsd = 0;                    // metres; required unless the kind tells it from its data
    std::optional<int> year;           // acquisition year where the source cannot tell it
    LonLatBox coverage{-180, -90, 180, 90}; // the box; for a polygon coverage, the polygons' bounds
    bool coverage_given = false;       // `coverage` in the TOML; else a kind may take it from its data
    // A polygon coverage (inline rings, a GeoJSON file, a built-in footprint); null for a box.
    // Shared and immutable, like `settings`.
    std::shared_ptr<const CoverageShape> coverage_shape;
    std::string date_start, date_end;  // ISO dates, "" = open
    std::vector<std::string> bands;    // R,G,B (or gray) as the kind names them: band names or 1-based numbers
    std::optional<std::pair<double, double>> stretch; // value range mapped to 0..255
    std::string licence;     // the terms the images are under: "CC-BY-4.0", "public domain", ...
    std::string attribution; // the credit line they must carry ("" : the licence line says it)
    // network kinds
    double requests_per_second = 0;    // 0: the kind's default
    int max_in_flight = 0;
    // Never null once parsed; shared, as copies of a source do not change it.
    std::shared_ptr<const SourceSettings> settings;

    // The point is in the coverage box, and in the polygons when there are.
    // `bands` as 1-based numbers, for a kind that numbers them (numbered_bands(): gdal, stac).
    std::vector<int> band_numbers() const;
    bool covers(double lon, double lat) const noexcept;
    // The whole box (a tile's lon/lat bounds) lies inside the coverage: for a box coverage,
    // its four corners are in it; for polygons, its corners are inside and no edge of the
    // polygons (holes included) meets it.
    bool covers_box(const LonLatBox& box) const noexcept;
    // `dates` as instants, milliseconds since 1970 UTC: the first day's first millisecond and
    // the last day's last (LLONG_MIN and LLONG_MAX where open). What a server answers is held
    // to it: a search that ignored the dates would name another year's pixels this source's.
    std::pair<long long, long long> dates_span_ms() const;

    // The kind's settings; throws std::bad_cast when the source is of another kind.
    template <class Settings>
    const Settings& settings_as() const {
        if (!settings) throw std::bad_cast();
        return dynamic_cast<const Settings&>(*settings);
    }
};

// Parses sources TOML; `origin` names the file in errors ("my.toml:7: source 2 (X): ...").
// Every key is checked: unknown keys (with the nearest known one suggested), keys of
// another kind, and values of the wrong type are errors naming the key's line.
// `coverage` is a box [west, south, east, north], a ring [[lon, lat], ...], rings (the outer
// one, then holes) [[[lon, lat], ...], ...], "builtin:NAME" (a footprint built into the
// binary), or the path of a GeoJSON file, relative to origin's folder; that file is the only
// one read here: a gdal source without `coverage` keeps the whole world until
// resolve_from_data.
std::vector<SourceConfig> parse_sources(std::string_view toml_text, const std::string& origin);
std::vector<SourceConfig> load_sources_file(const std::string& path);
std::vector<SourceConfig> builtin_sources();
// The open presets (open_sources.toml: Planetary Computer and Earth Search through the stac
// kind), what `--sources open` takes.
std::vector<SourceConfig> open_sources();

// Fills what the configuration leaves to the data: for a gdal source without `coverage`,
// the raster's own lon/lat footprint, and its native GSD when `gsd` is not set. Run it on
// each source before deciding what it covers. Throws naming the file when the data
// cannot be read.
void resolve_from_data(SourceConfig& source);

} // namespace skyscript::imagery
