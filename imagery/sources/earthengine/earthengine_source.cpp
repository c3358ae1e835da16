#include "imagery/sources/earthengine/earthengine_source.hpp"

#include "imagery/acquisition_time.hpp"
#include "imagery/image_decode.hpp"
#include "imagery/sources/earthengine/earthengine_kind.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

namespace skyscript::imagery {

namespace {

using json = nlohmann::json;

json constant(json v) { return {{"constantValue", std::move(v)}}; }
json invoke(const std::string& name, json arguments) {
    return {{"functionInvocationValue", {{"functionName", name}, {"arguments", std::move(arguments)}}}};
}

// How messages name the source.
std::string source_name(const SourceConfig& s) { return "Earth Engine (" + s.alias + ", " + s.settings_as<EarthEngineSettings>().collection + ")"; }

json rectangle(json coordinates) {
    return invoke("GeometryConstructors.Rectangle", {{"coordinates", std::move(coordinates)}, {"geodesic", constant(false)}});
}

// "YYYY-MM-DD" of the day after `date` ("YYYY-MM-DD", as sources files give it).
std::string day_after(const std::string& date) {
    int y = 0;
    unsigned m = 0, d = 0;
    if (std::sscanf(date.c_str(), "%d-%u-%u", &y, &m, &d) != 3) return date;
    if (y >= 9999 && m == 12 && d == 31) return date; // an end of time: no day after it in four digits
    const std::chrono::year_month_day next{std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} + std::chrono::days{1}};
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(next.year()), static_cast<unsigned>(next.month()), static_cast<unsigned>(next.day()));
    return out;
}

// The source's collection over `region` (a Geometry node), in the order the image is
// chosen in: most recent first, then (stable) least cloudy first.
json sorted_collection(const SourceConfig& s, json region) {
    const auto& ee = s.settings_as<EarthEngineSettings>();
    json collection = invoke("ImageCollection.load", {{"id", constant(ee.collection)}});
    collection = invoke("Collection.filter",
                        {{"collection", collection},
                         {"filter", invoke("Filter.intersects", {{"leftField", constant(".all")},
                                                                 {"rightValue", invoke("Feature", {{"geometry", std::move(region)}})}})}});
    // An open start asks from the sources' earliest year (1900), not 1970: a collection of
    // photographs older than 1970 lost them (red-team round 39).
    const std::string start = s.date_start.empty() ? "1900-01-01" : s.date_start;
    // DateRange's end is exclusive (developers.google.com/earth-engine/apidocs/ee-daterange):
    // the day after the source's last day, whose images STAC's search and docs/sources.md
    // take too. The last day itself lost its images, and dates = [D, D] none at all.
    const std::string end = s.date_end.empty() ? "2100-01-01" : day_after(s.date_end);
    collection = invoke("Collection.filter",
                        {{"collection", collection},
                         {"filter", invoke("Filter.dateRangeContains",
                                           {{"leftValue", invoke("DateRange", {{"start", constant(start)}, {"end", constant(end)}})},
                                            {"rightField", constant("system:time_start")}})}});
    collection = invoke("Collection.limit",
                        {{"collection", collection}, {"key", constant("system:time_start")}, {"ascending", constant(false)}});
    if (!ee.cloud_property.empty())
        collection = invoke("Collection.limit",
                            {{"collection", collection}, {"key", constant(ee.cloud_property)}, {"ascending", constant(true)}});
    return collection;
}

// Rectangle takes the low corner, then the high one: a tile across the antimeridian (west >
// east) goes with east + 360, as Google's client sends such a box (python/ee/geometry.py,
// BBox); west > east would select the band around the rest of the globe.
json box_coordinates(const LonLatBox& b) { return json::array({b.west, b.south, b.west > b.east ? b.east + 360 : b.east, b.north}); }

} // namespace

json earthengine_image_node(const SourceConfig& s, const TileGrid& grid) {
    return invoke("Collection.first", {{"collection", sorted_collection(s, rectangle(constant(box_coordinates(grid.box))))}});
}

json earthengine_compute_pixels_body(const SourceConfig& s, const TileGrid& grid) {
    json vis = {{"image", earthengine_image_node(s, grid)}, {"bands", constant(s.bands)}};
    if (s.stretch) {
        vis["min"] = constant(s.stretch->first);
        vis["max"] = constant(s.stretch->second);
    }
    return {{"expression", {{"result", "0"}, {"values", {{"0", invoke("Image.visualize", vis)}}}}},
            {"fileFormat", "PNG"},
            {"grid",
             {{"dimensions", {{"width", grid.width}, {"height", grid.height}}},
              {"affineTransform",
               {{"scaleX", grid.geotransform[1]}, {"shearX", grid.geotransform[2]}, {"translateX", grid.geotransform[0]},
                {"shearY", grid.geotransform[4]}, {"scaleY", grid.geotransform[5]}, {"translateY", grid.geotransform[3]}}},
              {"crsCode", grid.crs()}}},
            {"workloadTag", "skyscript-build"}};
}

// ee.List(footprints).map(lambda c: sorted(Rectangle(c)).limit(1).aggregate_array("system:time_start")),
// as the official client serializes it: the mapped function is a functionDefinitionValue
// whose body names another entry of `values`, its argument `_MAPPING_VAR_0_0` (the name
// CustomFunction gives the first argument of a function with no function inside). The
// first image's time as a list of one, not Collection.first's property: a footprint
// with no image gives an empty list instead of failing the whole request on a null.
json earthengine_times_body(const SourceConfig& s, std::span<const LonLatBox> footprints) {
    static const std::string var = "_MAPPING_VAR_0_0";
    json coordinates = json::array();
    for (const auto& b : footprints) coordinates.push_back(box_coordinates(b));
    const json first = invoke("Collection.limit", {{"collection", sorted_collection(s, rectangle({{"argumentReference", var}}))},
                                                   {"limit", constant(1)}});
    const json time = invoke("AggregateFeatureCollection.array", {{"collection", first}, {"property", constant("system:time_start")}});
    const json map = invoke("List.map", {{"list", constant(std::move(coordinates))},
                                         {"baseAlgorithm", {{"functionDefinitionValue", {{"argumentNames", {var}}, {"body", "1"}}}}},
                                         {"dropNulls", constant(false)}});
    return {{"expression", {{"result", "0"}, {"values", {{"0", map}, {"1", time}}}}}, {"workloadTag", "skyscript-build"}};
}

std::optional<std::vector<std::optional<long long>>> parse_earthengine_times(const json& result, std::size_t count) {
    if (!result.is_array() || result.size() != count) return std::nullopt;
    std::vector<std::optional<long long>> times;
    times.reserve(count);
    for (const auto& t : result) {
        if (!t.is_array() || t.size() > 1 || (t.size() == 1 && !t[0].is_number())) return std::nullopt;
        // Within years 1..9999 of the calendar: 1e300 ms rounded to INT64_MIN, 1e17 to year 3170843.
        if (t.size() == 1 && !(std::abs(t[0].get<double>()) <= 253402300799999.0)) return std::nullopt;
        times.push_back(t.empty() ? std::nullopt : std::optional<long long>(std::llround(t[0].get<double>())));
    }
    return times;
}

std::optional<std::string> earthengine_request_too_large(const TileGrid& grid) {
    if (grid.width > earthengine_max_side_px || grid.height > earthengine_max_side_px)
        return "tile of " + std::to_string(grid.width) + " px is over Earth Engine's 32,768 px a side";
    const std::uint64_t bytes = std::uint64_t(grid.width) * std::uint64_t(grid.height) * 3;
    if (bytes > earthengine_max_request_bytes)
        return "tile of " + std::to_string(grid.width) + "x" + std::to_string(grid.height) + " px is " + std::to_string(bytes) +
               " bytes, over Earth Engine's 50,331,648 bytes a request";
    return std::nullopt;
}

std::string describe_earthengine_failure(const HttpResult& r, const SourceConfig& s) {
    std::string message;
    try {
        const auto j = json::parse(r.error_detail);
        message = j.at("error").value("message", "");
    } catch (const std::exception&) {
    }
    const std::string said = message.empty() ? "" : ": " + message;
    const std::string where = source_name(s);
    switch (r.response.status) {
        case 400:
            if (message.find("is required") != std::string::npos || message.find("null") != std::string::npos)
                return earthengine_no_image_message(s) + " (HTTP 400" + said + ")";
            return where + " rejected the request (HTTP 400" + said + ")";
        case 401: return where + " refused the access token (HTTP 401" + said + "); check the service-account key";
        case 403:
            return where + ": permission denied (HTTP 403" + said +
                   "); the Cloud project must be registered for Earth Engine and the service account given access";
        case 404: return where + ": not found (HTTP 404" + said + "); check the collection id and the project";
        case 429: return where + ": quota exceeded (" + r.error + said + "); lower requests_per_second or max_in_flight";
        default: return where + ": " + r.error + said;
    }
}

std::string earthengine_no_image_message(const SourceConfig& s) {
    return source_name(s) + ": no image over this tile between " +
           (s.date_start.empty() ? "the start" : s.date_start) + " and " + (s.date_end.empty() ? "now" : s.date_end);
}

void fetch_earthengine_images(const SourceConfig& s, const std::string& project,
                              const std::vector<std::pair<std::uint64_t, TileGrid>>& grids, HttpEngine& engine,
                              TokenCache& tokens, const std::function<void(EarthEngineImage&&)>& on_image, KnownTimes* known,
                              const std::vector<std::pair<std::uint64_t, TileGrid>>& ahead) {
    const int in_flight = s.max_in_flight > 0 ? std::min(s.max_in_flight, earthengine_max_in_flight) : earthengine_max_in_flight;
    const double rate = s.requests_per_second > 0 ? std::min(s.requests_per_second, earthengine_max_requests_per_second)
                                                  : earthengine_max_requests_per_second;
    engine.set_max_in_flight(s.alias, in_flight);
    // Bursts of half a second's requests, not a whole second's: requests reach the service
    // later than they leave, some later than others, and a burst of the whole allowance
    // would meet the quota's edge with the slightest bunching (HTTP 429 for nothing).
    engine.set_rate(s.alias, rate, std::max(1.0, rate / 2));
    std::map<std::uint64_t, EarthEngineImage> pending;  // by index in `grids`: tiles whose pixels are asked
    std::vector<std::vector<std::size_t>> time_batches; // the tiles (indices in `grids`) of each value:compute
    std::optional<std::string> key_refused;
    auto authorize = [&tokens, &key_refused, &project](HttpRequest& r) {
        auto sent = std::make_shared<std::string>(); // the token this request went with
        // X-Goog-User-Project: the project to bill and check, as Google's client sends on every
        // call; without it the service uses the key's own project whatever the URL names.
        r.headers = {"Content-Type: application/json", "X-Goog-User-Project: " + project};
        r.start_headers = [&tokens, &key_refused, sent]() -> std::vector<std::string> {
            if (key_refused) throw CredentialsError(*key_refused);
            try {
                *sent = tokens.token();
            } catch (const CredentialsError& e) {
                // Each tile's reason is stored with the build: it says what was refused, and
                // leaves out where the key file is.
                std::string why = e.what();
                const std::string file = tokens.key_file() + ": ";
                if (!tokens.key_file().empty() && why.starts_with(file)) why.erase(0, file.size());
                key_refused = why;
                throw CredentialsError(why);
            }
            return {"Authorization: Bearer " + *sent};
        };
        r.renew_credentials = [&tokens, sent] { tokens.invalidate(*sent); };
    };
    auto failure = [&](const HttpResult& r) {
        return r.response.status == 0 && key_refused && r.error == *key_refused
                   ? *key_refused // the key's own message, as when it is refused at the start
                   : tokens.scrub(describe_earthengine_failure(r, s)); // a server may echo the token
    };
    // The collection's first image is asked within the source's dates; a time outside them
    // is a service that ignored the filter, and its pixels another year's than the source says.
    const auto [from_ms, to_ms] = s.dates_span_ms();
    auto outside_dates = [&](long long time_ms) -> std::optional<std::string> {
        if (time_ms >= from_ms && time_ms <= to_ms) return std::nullopt;
        char when[32] = "an unknown time";
        if (const auto tm = acquisition_utc(time_ms)) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &*tm);
        return source_name(s) + " answered an image taken " + when + ", outside the source's dates (" +
               (s.date_start.empty() ? std::string("...") : s.date_start) + " to " + (s.date_end.empty() ? std::string("...") : s.date_end) +
               "): not taken";
    };
    // Times looked up ahead for this batch are taken; the rest of them are stale.
    KnownTimes taken;
    if (known) {
        for (const auto& [id, grid] : grids)
            if (auto it = known->find(id); it != known->end() && it->second.box == grid.box) taken.insert(known->extract(it));
        known->clear();
    }
    // Tiles whose times to look up: indices into `grids`, then (n + j) into `ahead`.
    const std::size_t n = grids.size();
    auto grid_of = [&](std::size_t i) -> const std::pair<std::uint64_t, TileGrid>& { return i < n ? grids[i] : ahead[i - n]; };
    std::vector<std::size_t> sendable, with_time;
    for (std::size_t i = 0; i < n; ++i) {
        if (auto why = earthengine_request_too_large(grids[i].second)) {
            EarthEngineImage r;
            r.id = grids[i].first;
            r.error = *why;
            r.job_only = true;
            on_image(std::move(r));
        } else if (const auto t = taken.find(grids[i].first); t != taken.end()) {
            EarthEngineImage r;
            r.id = grids[i].first;
            if (t->second.time) {
                if (auto why = outside_dates(*t->second.time)) {
                    r.error = std::move(*why);
                    on_image(std::move(r));
                    continue;
                }
                with_time.push_back(i);
                pending[i].id = grids[i].first;
                pending[i].time_ms = known_acquisition_time(*t->second.time);
                continue;
            }
            r.no_imagery = true;
            r.error = earthengine_no_image_message(s);
            on_image(std::move(r));
        } else {
            sendable.push_back(i);
        }
    }
    if (known)
        for (std::size_t j = 0; j < ahead.size(); ++j)
            if (!earthengine_request_too_large(ahead[j].second)) sendable.push_back(n + j);
    if (!sendable.empty() || !with_time.empty()) (void)tokens.token();
    const std::string base = s.settings_as<EarthEngineSettings>().endpoint + "/v1/projects/" + project;
    // A POST of JSON to one of the project's methods, with its token and source.
    auto post = [&](std::uint64_t id, const char* method, const nlohmann::json& body) {
        HttpRequest r;
        r.id = id;
        r.url = base + method;
        r.method = "POST";
        r.body = body.dump();
        authorize(r);
        r.source = s.alias;
        return r;
    };
    // Request ids: 2 i for the pixels of tile i, 2 b + 1 for the times of batch b. The times
    // come first: a tile with no image in the collection is told so before any pixels are
    // asked for (another source may have it: no_imagery), and costs its batch's share of
    // one request.
    for (std::size_t first = 0; first < sendable.size(); first += earthengine_times_per_request) {
        const std::size_t count = std::min(earthengine_times_per_request, sendable.size() - first);
        auto& tiles = time_batches.emplace_back(sendable.begin() + std::ptrdiff_t(first), sendable.begin() + std::ptrdiff_t(first + count));
        std::vector<LonLatBox> footprints;
        for (const auto i : tiles) footprints.push_back(grid_of(i).second.box);
        auto times = post((time_batches.size() - 1) * 2 + 1, "/value:compute", earthengine_times_body(s, footprints));
        times.max_body_bytes = earthengine_max_answer_bytes;
        times.validate = [count](const HttpResponse& resp) -> std::optional<std::string> {
            try {
                if (parse_earthengine_times(json::parse(resp.body).at("result"), count)) return std::nullopt;
            } catch (const std::exception&) {
            }
            return "value:compute answer is not a list of " + std::to_string(count) + " lists of times";
        };
        engine.submit(std::move(times));
    }
    auto ask_pixels = [&](std::size_t i) {
        const auto& grid = grids[i].second;
        EarthEngineImage& slot = pending[i]; // std::map: the reference stays valid while others are added
        auto pixels = post(i * 2, "/image:computePixels", earthengine_compute_pixels_body(s, grid));
        pixels.cacheable = true;
        const int w = grid.width, h = grid.height;
        pixels.max_body_bytes = earthengine_max_pixels_bytes(grid);
        // The validation decodes the image; the decoded pixels are kept, not decoded again.
        pixels.validate = [w, h, colour = s.bands.size() == 3, image = &slot.image](const HttpResponse& resp) -> std::optional<std::string> {
            if (resp.content_type.rfind("image/", 0) != 0) return "content type " + resp.content_type;
            // Three bands asked, one answered (a gray PNG, with or without alpha: its colour type,
            // byte 25 of the PNG): decoded as gray it passed for a colour image (red-team round 37).
            if (colour && resp.body.size() > 25 && resp.body.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 &&
                (resp.body[25] == 0 || resp.body[25] == 4))
                return std::string("a one-band (gray) PNG, where three bands were asked");
            try {
                *image = decode_image(resp.body, w, h);
            } catch (const std::exception& e) {
                return std::string(e.what());
            }
            return std::nullopt;
        };
        engine.submit(std::move(pixels));
    };
    for (const auto i : with_time) ask_pixels(i);
    engine.run([&](HttpResult&& r) {
        if (r.id % 2 == 0) {
            auto it = pending.find(r.id / 2);
            EarthEngineImage result = std::move(it->second);
            pending.erase(it);
            result.ok = r.ok;
            if (!r.ok) {
                result.error = failure(r);
                result.image = {};
            }
            on_image(std::move(result));
            return;
        }
        const auto& tiles = time_batches.at(r.id / 2);
        // A failed value:compute fails each of its tiles with its reason; an empty list is a tile with no image.
        std::optional<std::vector<std::optional<long long>>> times;
        if (r.ok) times = parse_earthengine_times(json::parse(r.response.body).at("result"), tiles.size());
        for (std::size_t k = 0; k < tiles.size(); ++k) {
            const std::size_t i = tiles[k];
            if (i >= n) { // the next batch's: kept for it when the look-up answered
                if (times) (*known)[ahead[i - n].first] = {ahead[i - n].second.box, (*times)[k]};
                continue;
            }
            EarthEngineImage result;
            result.id = grids[i].first;
            if (times && (*times)[k]) {
                if (auto why = outside_dates(*(*times)[k])) {
                    result.error = std::move(*why);
                    on_image(std::move(result));
                    continue;
                }
                pending[i].id = grids[i].first;
                pending[i].time_ms = known_acquisition_time(*(*times)[k]);
                ask_pixels(i);
                continue;
            }
            result.no_imagery = times.has_value();
            result.error = times ? earthengine_no_image_message(s) : failure(r);
            on_image(std::move(result));
        }
    });
}

} // namespace skyscript::imagery
