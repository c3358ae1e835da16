// Fuzz target: the sources-TOML reader (imagery/source_config.*) on any text, from a
// string (parse_sources) and from a file (load_sources_file), which must agree.
//
// Invariants: errors are SourceConfigError, one line, naming the file; an accepted file
// holds sources whose every value is in the range the format promises (aliases of 1-8
// letters or digits, used once; finite GSD, coverage and stretch; known years, zooms,
// tile sizes, band counts; a polygon coverage's box is its bounds), as the rest of the
// program takes them on trust.

#include "fuzz_check.hpp"
#include "imagery/source_config.hpp"
#include "imagery/sources/earthengine/earthengine_kind.hpp"
#include "imagery/sources/gdal/gdal_kind.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"
#include "temp_input_file.hpp"

#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string>

using skyscript::imagery::SourceConfig;
using skyscript::imagery::SourceConfigError;
using skyscript::imagery::EarthEngineSettings;
using skyscript::imagery::GdalSettings;
using skyscript::imagery::XyzSettings;

namespace {

void check_error(const SourceConfigError& e, const std::string& origin) {
    const std::string what = e.what();
    FUZZ_CHECK(what.starts_with(origin + ":"), what);
    FUZZ_CHECK(what.find('\n') == std::string::npos, what);
}

bool is_date(const std::string& d) {
    if (d.empty()) return true;
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    return true;
}

void check_source(const SourceConfig& s) {
    const std::string& a = s.alias;
    FUZZ_CHECK(!a.empty() && a.size() <= 8, a);
    for (char c : a) FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)), a);
    FUZZ_CHECK(std::isfinite(s.gsd) && s.gsd >= 0 && s.gsd <= 10000, a + ": gsd " + std::to_string(s.gsd));
    FUZZ_CHECK(s.kind == &skyscript::imagery::gdal_kind() || s.gsd > 0, a + ": no gsd");
    if (s.year) FUZZ_CHECK(*s.year >= 1900 && *s.year <= 2100, a);
    const auto& c = s.coverage;
    FUZZ_CHECK(std::isfinite(c.west) && std::isfinite(c.south) && std::isfinite(c.east) && std::isfinite(c.north),
               a + ": coverage not finite");
    FUZZ_CHECK(c.west >= -180 && c.east <= 180 && c.south >= -90 && c.north <= 90 && c.south < c.north, a + ": coverage");
    if (const auto& shape = s.coverage_shape) { // a polygon: the box is its bounds, and holds what it covers
        const auto& b = shape->bounds();
        FUZZ_CHECK(b.west == c.west && b.south == c.south && b.east == c.east && b.north == c.north && c.west < c.east, a + ": polygon bounds");
        FUZZ_CHECK(shape->vertex_count() >= 3 && !shape->digest().empty(), a + ": polygon");
        FUZZ_CHECK(!s.covers(c.west - 1e-9, c.south) && !s.covers_box({c.west - 1, c.south, c.east, c.north}), a + ": polygon outside its bounds");
    }
    FUZZ_CHECK(is_date(s.date_start) && is_date(s.date_end), a + ": dates");
    FUZZ_CHECK(s.bands.empty() || s.bands.size() == 1 || s.bands.size() == 3, a + ": bands");
    if (s.stretch)
        FUZZ_CHECK(std::isfinite(s.stretch->first) && std::isfinite(s.stretch->second) && s.stretch->first < s.stretch->second,
                   a + ": stretch");
    FUZZ_CHECK(std::isfinite(s.requests_per_second) && s.requests_per_second >= 0, a + ": requests_per_second");
    FUZZ_CHECK(s.max_in_flight >= 0 && s.max_in_flight <= 10000, a + ": max_in_flight");
    if (s.kind == &skyscript::imagery::earthengine_kind()) {
        FUZZ_CHECK(!s.settings_as<EarthEngineSettings>().collection.empty() && !s.bands.empty(), a);
    } else if (s.kind == &skyscript::imagery::gdal_kind()) {
        FUZZ_CHECK(!s.settings_as<GdalSettings>().path.empty(), a);
    } else if (s.kind == &skyscript::imagery::xyz_kind()) {
        const auto& xyz = s.settings_as<XyzSettings>();
        FUZZ_CHECK(!xyz.url.empty(), a);
        FUZZ_CHECK(xyz.tile_px == 256 || xyz.tile_px == 512, a);
        FUZZ_CHECK(xyz.max_zoom >= 0 && xyz.max_zoom <= 24, a);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::optional<std::vector<SourceConfig>> parsed;
    std::string parse_error;
    try {
        parsed = skyscript::imagery::parse_sources(text, "fuzz.toml");
    } catch (const SourceConfigError& e) {
        check_error(e, "fuzz.toml");
        parse_error = e.what();
    }
    if (parsed) {
        FUZZ_CHECK(!parsed->empty(), "accepted with no source");
        std::set<std::string> aliases;
        for (const auto& s : *parsed) {
            check_source(s);
            FUZZ_CHECK(aliases.insert(s.alias).second, "alias used twice: " + s.alias);
        }
    }

    // From a file: the same answer, errors naming the file instead.
    const std::string path = skyscript::fuzz::write_temp_file("sources.toml", text);
    try {
        const auto loaded = skyscript::imagery::load_sources_file(path);
        FUZZ_CHECK(parsed && loaded.size() == parsed->size(), path + " loaded what the string parser refused: " + parse_error);
        for (std::size_t i = 0; i < loaded.size(); ++i) FUZZ_CHECK(loaded[i].alias == (*parsed)[i].alias, path);
    } catch (const SourceConfigError& e) {
        check_error(e, path);
        FUZZ_CHECK(!parsed, path + " refused what the string parser took: " + e.what());
    }
    return 0;
}
