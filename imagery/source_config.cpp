#include "source_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace skyscript::embedded {
std::string_view default_sources_toml();
}

namespace skyscript::imagery {

std::string_view kind_name(SourceKind kind) noexcept {
    switch (kind) {
        case SourceKind::earthengine: return "earthengine";
        case SourceKind::gdal: return "gdal";
        case SourceKind::xyz: return "xyz";
    }
    return "?";
}

bool SourceConfig::covers(double lon, double lat) const noexcept {
    if (lat < coverage.south || lat > coverage.north) return false;
    if (coverage.crosses_antimeridian()) return lon >= coverage.west || lon <= coverage.east;
    return lon >= coverage.west && lon <= coverage.east;
}

namespace {

bool valid_date(const std::string& d) {
    if (d.empty()) return true;
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    const int m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
    return m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

} // namespace

std::vector<SourceConfig> parse_sources(std::string_view text, const std::string& origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        throw SourceConfigError(origin + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    const auto* array = root["source"].as_array();
    if (!array || array->empty()) throw SourceConfigError(origin + ": no [[source]] table");
    std::vector<SourceConfig> sources;
    std::set<std::string> aliases;
    int index = 0;
    for (const auto& node : *array) {
        ++index;
        const auto* t = node.as_table();
        const int line = static_cast<int>(node.source().begin.line);
        std::string where = origin + ":" + std::to_string(line) + ": source " + std::to_string(index);
        if (!t) throw SourceConfigError(where + ": not a table");
        auto fail = [&](const std::string& what) -> void { throw SourceConfigError(where + ": " + what); };
        auto str = [&](const char* key, bool required) {
            const auto v = (*t)[key].value<std::string>();
            if (required && (!v || v->empty())) fail(std::string("needs `") + key + "`");
            if (!v && (*t)[key]) fail(std::string("`") + key + "` must be a string");
            return v.value_or("");
        };
        SourceConfig s;
        s.alias = str("alias", true);
        where += " (" + s.alias + ")";
        if (s.alias.size() > 8 || !std::all_of(s.alias.begin(), s.alias.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
            fail("alias must be 1-8 letters or digits (it is part of every image file name)");
        if (!aliases.insert(s.alias).second) fail("alias `" + s.alias + "` is used twice");
        const auto kind = str("kind", true);
        if (kind == "earthengine") s.kind = SourceKind::earthengine;
        else if (kind == "gdal") s.kind = SourceKind::gdal;
        else if (kind == "xyz") s.kind = SourceKind::xyz;
        else fail("kind must be earthengine, gdal or xyz, got `" + kind + "`");
        if (auto g = (*t)["gsd"].value<double>()) {
            if (!(*g > 0) || *g > 10000) fail("gsd must be a positive number of metres");
            s.gsd = *g;
        } else if ((*t)["gsd"]) {
            fail("gsd must be a number");
        } else if (s.kind != SourceKind::gdal) {
            fail("needs `gsd` (metres per pixel)");
        }
        if (auto y = (*t)["year"].value<int64_t>()) {
            if (*y < 1900 || *y > 2100) fail("year out of range");
            s.year = static_cast<int>(*y);
        }
        if (const auto* c = (*t)["coverage"].as_array()) {
            std::vector<double> v;
            for (const auto& e : *c) {
                if (auto d = e.value<double>()) v.push_back(*d);
                else fail("coverage must be [west, south, east, north] numbers");
            }
            if (v.size() != 4 || v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[1] >= v[3])
                fail("coverage must be [west, south, east, north] in degrees (west > east crosses the antimeridian)");
            s.coverage = {v[0], v[1], v[2], v[3]};
        }
        if (const auto* d = (*t)["dates"].as_array()) {
            if (d->size() != 2) fail("dates must be [\"YYYY-MM-DD\", \"YYYY-MM-DD\"] (\"\" for open)");
            s.date_start = (*d)[0].value<std::string>().value_or("?");
            s.date_end = (*d)[1].value<std::string>().value_or("?");
            if (!valid_date(s.date_start) || !valid_date(s.date_end)) fail("dates must be YYYY-MM-DD or \"\"");
            if (!s.date_start.empty() && !s.date_end.empty() && s.date_start > s.date_end) fail("dates: start is after end");
        }
        if (const auto* b = (*t)["bands"].as_array()) {
            for (const auto& e : *b) {
                if (auto sv = e.value<std::string>()) s.bands.push_back(*sv);
                else if (auto iv = e.value<int64_t>()) s.bands.push_back(std::to_string(*iv));
                else fail("bands must be names or numbers");
            }
            if (s.bands.size() != 3 && s.bands.size() != 1) fail("bands must list 3 bands (R, G, B) or 1 (gray)");
        }
        if (const auto* st = (*t)["stretch"].as_array()) {
            const auto lo = st->size() == 2 ? (*st)[0].value<double>() : std::nullopt;
            const auto hi = st->size() == 2 ? (*st)[1].value<double>() : std::nullopt;
            if (!lo || !hi || !(*hi > *lo)) fail("stretch must be [min, max] with max > min");
            s.stretch = {*lo, *hi};
        }
        s.licence = str("licence", false);
        s.requests_per_second = (*t)["requests_per_second"].value<double>().value_or(0);
        s.max_in_flight = static_cast<int>((*t)["max_in_flight"].value<int64_t>().value_or(0));
        switch (s.kind) {
            case SourceKind::earthengine:
                s.collection = str("collection", true);
                s.project = str("project", false);
                if (auto e = (*t)["endpoint"].value<std::string>()) s.endpoint = *e;
                s.cloud_property = str("cloud_property", false);
                if (s.bands.empty()) fail("needs `bands` (the collection's R, G, B band names)");
                break;
            case SourceKind::gdal:
                s.path = str("path", true);
                break;
            case SourceKind::xyz:
                s.url = str("url", true);
                if (s.url.find("{q}") == std::string::npos &&
                    (s.url.find("{z}") == std::string::npos || s.url.find("{x}") == std::string::npos ||
                     (s.url.find("{y}") == std::string::npos && s.url.find("{-y}") == std::string::npos)))
                    fail("url needs {z}, {x} and {y} (or {-y}), or {q}");
                s.tms = (*t)["tms"].value<bool>().value_or(false) || s.url.find("{-y}") != std::string::npos;
                s.tile_px = static_cast<int>((*t)["tile_px"].value<int64_t>().value_or(256));
                if (s.tile_px != 256 && s.tile_px != 512) fail("tile_px must be 256 or 512");
                s.max_zoom = static_cast<int>((*t)["max_zoom"].value<int64_t>().value_or(22));
                if (s.max_zoom < 0 || s.max_zoom > 24) fail("max_zoom must be 0..24");
                break;
        }
        sources.push_back(std::move(s));
    }
    return sources;
}

std::vector<SourceConfig> load_sources_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SourceConfigError(path + ": cannot open sources file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_sources(ss.str(), path);
}

std::vector<SourceConfig> builtin_sources() {
    return parse_sources(skyscript::embedded::default_sources_toml(), "default_sources.toml");
}

} // namespace skyscript::imagery
