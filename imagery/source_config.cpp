#include "imagery/source_config.hpp"
#include "imagery/toml_key_depth.hpp"

#include "imagery/one_line_text.hpp"
#include "imagery/small_file.hpp"

#include "imagery/source_kind.hpp"
#include "imagery/source_table.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>

namespace skyscript::embedded {
std::string_view default_sources_toml();
std::string_view open_sources_toml();
}

namespace skyscript::imagery {

std::vector<int> SourceConfig::band_numbers() const {
    std::vector<int> numbers;
    for (const auto& b : bands) numbers.push_back(std::stoi(b));
    return numbers;
}

bool SourceConfig::covers(double lon, double lat) const noexcept {
    if (lat < coverage.south || lat > coverage.north) return false;
    if (coverage.crosses_antimeridian()) {
        if (lon < coverage.west && lon > coverage.east) return false;
    } else if (lon < coverage.west || lon > coverage.east) {
        return false;
    }
    return !coverage_shape || coverage_shape->contains(lon, lat);
}

bool SourceConfig::covers_box(const LonLatBox& box) const noexcept {
    if (coverage_shape) return coverage_shape->contains_box(box);
    return covers(box.west, box.south) && covers(box.east, box.north) && covers(box.west, box.north) && covers(box.east, box.south);
}

std::pair<long long, long long> SourceConfig::dates_span_ms() const {
    const auto day_ms = [](const std::string& date) {
        int y = 0;
        unsigned m = 0, d = 0;
        std::sscanf(date.c_str(), "%d-%u-%u", &y, &m, &d); // checked by valid_date when parsed
        const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
        return static_cast<long long>(day.time_since_epoch().count()) * 86'400'000LL;
    };
    return {date_start.empty() ? std::numeric_limits<long long>::min() : day_ms(date_start),
            date_end.empty() ? std::numeric_limits<long long>::max() : day_ms(date_end) + 86'400'000LL - 1};
}

namespace {

// A raster's bands are counted in an int; no format has more than this many.
constexpr std::int64_t max_band_number = 65535;

bool valid_date(const std::string& d) {
    if (d.empty()) return true;
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    const int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
    if (m < 1 || m > 12) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const int days[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return day >= 1 && day <= days[m - 1];
}

// The keys of a [[source]] table of this kind; anything else is a typo or a key of another kind.
std::vector<std::string_view> keys_of(const SourceKind& kind) {
    std::vector<std::string_view> keys{"alias", "kind", "gsd", "year", "coverage", "dates", "licence", "attribution"};
    for (auto k : kind.keys()) keys.push_back(k);
    return keys;
}

// "earthengine, gdal, stac or xyz".
std::string kind_names() {
    std::string names;
    const auto& kinds = source_kinds();
    for (std::size_t i = 0; i < kinds.size(); ++i)
        names += (i == 0 ? "" : i + 1 == kinds.size() ? " or " : ", ") + std::string(kinds[i]->name());
    return names;
}

std::string with_article(std::string_view word) {
    return (std::string_view("aeiou").find(word.empty() ? 'x' : word[0]) != std::string_view::npos ? "an " : "a ") + std::string(word);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// " (did you mean `stretch`?)" when one known key is close to the typo, else "".
std::string suggestion(std::string_view key, const std::vector<std::string_view>& known) {
    std::string_view best;
    std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
    for (auto k : known)
        if (const auto d = edit_distance(key, k); d < best_distance) best = k, best_distance = d;
    return best.empty() ? std::string() : " (did you mean `" + std::string(best) + "`?)";
}

std::string line_of(const toml::source_region& where) { return std::to_string(where.begin.line); }

constexpr const char* coverage_forms =
    "coverage must be [west, south, east, north], a ring [[lon, lat], ...], rings [[[lon, lat], ...], ...] (the outer one, "
    "then holes), \"builtin:NAME\" or the path of a GeoJSON file";

// One [lon, lat] of an inline ring.
LonLat position_of(const SourceTable& table, const toml::node& node) {
    const auto* a = node.as_array();
    if (!a || a->size() != 2 || !(*a)[0].is_number() || !(*a)[1].is_number())
        table.fail_at(node, "coverage: a ring's positions are [lon, lat] pairs of numbers");
    return {*(*a)[0].value<double>(), *(*a)[1].value<double>()};
}

// An inline ring; closed here when its last position does not repeat the first.
CoverageRing ring_of(const SourceTable& table, const toml::node& node) {
    const auto* a = node.as_array();
    if (!a) table.fail_at(node, coverage_forms);
    CoverageRing ring;
    for (const auto& e : *a) ring.push_back(position_of(table, e));
    if (!ring.empty() && (ring.front().lon != ring.back().lon || ring.front().lat != ring.back().lat)) ring.push_back(ring.front());
    return ring;
}

// `coverage`: a box, inline rings, a built-in footprint or a GeoJSON file (docs/sources.md).
void read_coverage(const SourceTable& table, const std::string& origin, SourceConfig& s) {
    const auto& node = *table.get("coverage");
    if (const auto spec = node.value<std::string>(); spec && node.is_string()) {
        if (spec->empty()) table.fail_at(node, std::string(coverage_forms) + ", not \"\"");
        try {
            if (spec->starts_with("builtin:")) {
                s.coverage_shape = builtin_footprint(std::string_view(*spec).substr(8));
            } else {
                const std::filesystem::path file(*spec);
                const auto folder = std::filesystem::path(origin).parent_path();
                s.coverage_shape = coverage_from_geojson_file(file.is_absolute() || folder.empty() ? file.string() : (folder / file).string());
            }
        } catch (const CoverageError& e) {
            table.fail_at(node, "coverage: " + std::string(e.what()));
        }
    } else if (const auto* c = node.as_array(); c && !c->empty() && (*c)[0].is_array()) {
        // Rings when the first element is an array of arrays, else one ring of positions.
        const auto* first = (*c)[0].as_array();
        const bool rings = !first->empty() && (*first)[0].is_array();
        CoveragePolygon polygon;
        if (rings) for (const auto& r : *c) polygon.push_back(ring_of(table, r));
        else polygon.push_back(ring_of(table, node));
        try {
            s.coverage_shape = CoverageShape::make({std::move(polygon)}, "inline");
        } catch (const CoverageError& e) {
            table.fail_at(node, "coverage: " + std::string(e.what()));
        }
    } else if (c) {
        std::vector<double> v;
        for (const auto& e : *c) {
            if (!e.is_number() || !std::isfinite(*e.value<double>())) table.fail_at(e, "coverage must be [west, south, east, north] numbers");
            v.push_back(*e.value<double>());
        }
        if (v.size() != 4 || v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[1] >= v[3])
            table.fail_at(*c, "coverage must be [west, south, east, north] in degrees (west > east crosses the antimeridian)");
        // West = east covers no longitude; west > east is read as crossing the antimeridian,
        // and a box whose corners were swapped then covers nearly the globe ([7.5, 43.7, 7.3,
        // 43.8]: 359.8 degrees, without a word). A real box across it is narrower (a Pacific
        // one of 200 degrees is taken); over 300 degrees is refused: give [-180, S, 180, N].
        if (v[0] == v[2] || (v[0] == 180 && v[2] == -180)) table.fail_at(*c, "coverage has west = east: it covers no longitude");
        if (v[0] > v[2] && 360 - (v[0] - v[2]) > 300)
            table.fail_at(*c, "coverage has west > east, which crosses the antimeridian, here over " + std::to_string(static_cast<int>(360 - (v[0] - v[2]))) +
                                  " degrees of longitude: west and east swapped? (a box across the antimeridian is [170, -20, -170, 10]; the whole globe's [-180, S, 180, N])");
        s.coverage = {v[0], v[1], v[2], v[3]};
    } else {
        table.fail_at(node, coverage_forms);
    }
    if (s.coverage_shape) s.coverage = s.coverage_shape->bounds();
    s.coverage_given = true;
}

} // namespace

namespace {

// Errors are one line: values echoed from the file (and toml++'s own text, which quotes what
// it saw) may hold a newline or other control characters (one_line_text).

std::vector<SourceConfig> parse_sources_checked(std::string_view text, const std::string& origin);

} // namespace

std::vector<SourceConfig> parse_sources(std::string_view text, const std::string& origin) {
    try {
        return parse_sources_checked(text, origin);
    } catch (const SourceConfigError& e) {
        throw SourceConfigError(one_line_text(e.what(), 4000));
    }
}

namespace {

std::vector<SourceConfig> parse_sources_checked(std::string_view text, const std::string& origin) {
    if (const auto line = toml_key_too_deep(text))
        throw SourceConfigError(origin + ":" + std::to_string(*line) + ": a key of more than " + std::to_string(toml_max_key_parts) + " dotted parts");
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        throw SourceConfigError(origin + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    const auto* array = root["source"].as_array();
    if (!array || array->empty()) throw SourceConfigError(origin + ": no [[source]] table");
    for (const auto& [key, value] : root)
        if (key.str() != "source")
            throw SourceConfigError(origin + ":" + line_of(key.source()) + ": unknown top-level key `" + std::string(key.str()) +
                                    "` (a sources file holds [[source]] tables only)" + suggestion(key.str(), {"source"}));
    std::vector<SourceConfig> sources;
    std::set<std::string> aliases;
    int index = 0;
    for (const auto& node : *array) {
        ++index;
        const auto* t = node.as_table();
        const int line = static_cast<int>(node.source().begin.line);
        if (!t) throw SourceConfigError(origin + ":" + std::to_string(line) + ": source " + std::to_string(index) + ": not a table");
        SourceTable table(*t, origin, line, "source " + std::to_string(index));
        SourceConfig s;
        s.alias = table.string("alias", true);
        table.name_alias(s.alias);
        if (s.alias.size() > 8 || !std::all_of(s.alias.begin(), s.alias.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
            table.fail("alias must be 1-8 letters or digits (it is part of every image file name)");
        // In any case: `a1` and `A1` name the same files on a case-insensitive file system (a
        // dataset downloaded to macOS or Windows).
        std::string folded = s.alias;
        for (auto& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!aliases.insert(folded).second) table.fail("alias `" + s.alias + "` is used twice (aliases are told apart without regard to case)");
        const auto kind = table.string("kind", true);
        s.kind = find_source_kind(kind);
        if (!s.kind) table.fail_at("kind", "kind must be " + kind_names() + ", got `" + kind + "`");
        // Every key is known for this kind, before any value is looked at.
        const auto known = keys_of(*s.kind);
        for (const auto& [key, value] : *t) {
            if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
            const std::string name(key.str());
            for (const auto* other : source_kinds())
                if (const auto theirs = other->keys(); std::find(theirs.begin(), theirs.end(), key.str()) != theirs.end())
                    table.fail_line(key.source(), "`" + name + "` is not a key of " + kind + " sources");
            table.fail_line(key.source(), "unknown key `" + name + "`" + suggestion(name, known));
        }
        if (auto g = table.number("gsd")) {
            if (!(*g >= 0.001) || *g > 10000) table.fail_at("gsd", "gsd must be a number of metres from 0.001 to 10000");
            s.gsd = *g;
        } else if (!s.kind->gsd_from_data()) {
            table.fail("needs `gsd` (metres per pixel)");
        }
        if (auto y = table.integer("year")) {
            if (*y < 1900 || *y > 2100) table.fail_at("year", "year out of range");
            s.year = static_cast<int>(*y);
        }
        if (table.get("coverage")) read_coverage(table, origin, s);
        if (const auto* d = table.array("dates", "[\"YYYY-MM-DD\", \"YYYY-MM-DD\"]")) {
            if (d->size() != 2 || !(*d)[0].is_string() || !(*d)[1].is_string())
                table.fail_at(*d, "dates must be [\"YYYY-MM-DD\", \"YYYY-MM-DD\"] (\"\" for open)");
            s.date_start = *(*d)[0].value<std::string>();
            s.date_end = *(*d)[1].value<std::string>();
            if (!valid_date(s.date_start) || !valid_date(s.date_end)) table.fail_at(*d, "dates must be YYYY-MM-DD or \"\"");
            if (!s.date_start.empty() && !s.date_end.empty() && s.date_start > s.date_end) table.fail_at(*d, "dates: start is after end");
        }
        // A year the dates exclude names every image for a year its pixels are not from.
        if (s.year) {
            const auto year_of = [](const std::string& date) { return std::stoi(date.substr(0, 4)); };
            if ((!s.date_start.empty() && *s.year < year_of(s.date_start)) || (!s.date_end.empty() && *s.year > year_of(s.date_end)))
                table.fail_at("year", "year " + std::to_string(*s.year) + " is outside `dates` (" + (s.date_start.empty() ? "..." : s.date_start) + " to " +
                                          (s.date_end.empty() ? "..." : s.date_end) + "): the images would be named for a year their pixels are not from");
        }
        // Band names ("B4") or 1-based band numbers, as the kind reads them; only kinds
        // that list `bands` among their keys get here with one.
        const bool numbered = s.kind->numbered_bands();
        if (const auto* b = table.array("bands", numbered ? "of 1-based band numbers" : "of band names")) {
            for (const auto& e : *b) {
                if (!numbered && e.is_string()) s.bands.push_back(*e.value<std::string>());
                else if (numbered && e.is_integer() && *e.value<std::int64_t>() >= 1 && *e.value<std::int64_t>() <= max_band_number)
                    s.bands.push_back(std::to_string(*e.value<std::int64_t>()));
                else table.fail_at(e, "bands of " + with_article(kind) + " source are " +
                                          (numbered ? "1-based band numbers, e.g. [3, 2, 1]" : "band names, e.g. [\"B4\", \"B3\", \"B2\"]"));
            }
            if (s.bands.size() != 3 && s.bands.size() != 1) table.fail_at(*b, "bands must list 3 bands (R, G, B) or 1 (gray)");
        }
        if (const auto* st = table.array("stretch", "[min, max]")) {
            const bool numbers = st->size() == 2 && (*st)[0].is_number() && (*st)[1].is_number();
            const auto lo = numbers ? (*st)[0].value<double>() : std::nullopt;
            const auto hi = numbers ? (*st)[1].value<double>() : std::nullopt;
            // max - min finite too: [-1e308, 1e308] overflowed to an infinite span, every image black.
            if (!lo || !hi || !std::isfinite(*lo) || !std::isfinite(*hi) || !(*hi > *lo) || !std::isfinite(*hi - *lo))
                table.fail_at(*st, "stretch must be [min, max] with max > min (and max - min a finite number)");
            s.stretch = {*lo, *hi};
        }
        s.licence = table.string("licence", false);
        s.attribution = table.string("attribution", false);
        if (auto r = table.number("requests_per_second")) {
            // Below one request in 1000 s a build never ends (1e-300 passed as positive and hung it); infinity is no rate.
            if (!(*r >= 0.001) || !std::isfinite(*r))
                table.fail_at("requests_per_second", "requests_per_second must be a number from 0.001 (a request in about 17 minutes) up");
            s.requests_per_second = *r;
        }
        if (auto m = table.integer("max_in_flight")) {
            if (*m < 1 || *m > 10000) table.fail_at("max_in_flight", "max_in_flight must be 1..10000");
            s.max_in_flight = static_cast<int>(*m);
        }
        s.settings = s.kind->parse(table, s);
        sources.push_back(std::move(s));
    }
    return sources;
}

} // namespace

std::vector<SourceConfig> load_sources_file(const std::string& path) {
    // Looked at before it is read (small_file.hpp): /dev/zero was read into memory for ever
    // (5 GB in 8 s) and a FIFO blocked `sources`, `fetch-one` and extract's --read-sample
    // (red-team round 33); the build's own option check refused them.
    constexpr std::uintmax_t max_bytes = 16 << 20; // a sources file is kilobytes
    const auto file = read_small_file(path, max_bytes);
    if (file.too_big) throw SourceConfigError(path + ": cannot open sources file (" + std::to_string(file.size >> 20) + " MB, more than a sources file's 16 MB)");
    if (!file.bytes) throw SourceConfigError(path + ": cannot open sources file (" + file.why + ")");
    return parse_sources(*file.bytes, path);
}

std::vector<SourceConfig> builtin_sources() {
    return parse_sources(skyscript::embedded::default_sources_toml(), "default_sources.toml");
}

std::vector<SourceConfig> open_sources() { return parse_sources(skyscript::embedded::open_sources_toml(), "open_sources.toml"); }

void resolve_from_data(SourceConfig& source) { source.kind->resolve_from_data(source); }

} // namespace skyscript::imagery
