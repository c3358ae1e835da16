#pragma once
// The `earthengine` source kind: for each tile, one computePixels request whose
// expression graph picks "the least cloudy, most recent image of collection C over
// the tile within the date range", selects the RGB bands and visualizes them to
// 8-bit, on the tile's own grid; and, for up to 64 tiles at once, one value:compute
// request for the acquisition times (system:time_start) of the images so chosen, so a
// build costs about one request per image, not two, under the project's quota.
// Function and argument names follow the official client's serializer and algorithm
// list (github.com/google/earthengine-api: python/ee/serializer.py, customfunction.py,
// ee_list.py, collection.py, tests/algorithms.json): ImageCollection.load,
// Collection.filter, Filter.intersects, Filter.dateRangeContains, Collection.limit,
// Collection.first, Image.visualize, List.map, AggregateFeatureCollection.array.
// Limits enforced before sending: 48 MB (50,331,648 bytes) uncompressed and 32,768 px
// a side per request; 40 requests in flight and 100 requests/s per source unless the
// source asks for less. HTTP errors become messages that say what to do.
// The access token is read when each request is sent, so a batch may outlive many
// tokens (TokenCache renews them before they expire); a 401 renews it and resends once.

#include "imagery/http_engine.hpp"
#include "imagery/rgb_image.hpp"
#include "imagery/source_config.hpp"
#include "imagery/sources/earthengine/service_account.hpp"
#include "imagery/tile_grid.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace skyscript::imagery {

inline constexpr std::uint64_t earthengine_max_request_bytes = 50331648;
inline constexpr int earthengine_max_side_px = 32768;
inline constexpr int earthengine_max_in_flight = 40;
inline constexpr double earthengine_max_requests_per_second = 100;

// The largest answers taken (HttpRequest::max_body_bytes): a computePixels PNG of an RGB
// tile is at most its raw size plus a little (a filter byte a row, zlib's stored blocks),
// so twice the raw size and a megabyte; a value:compute answer or an error is small.
inline constexpr std::uint64_t earthengine_max_answer_bytes = 1 << 20;
inline std::uint64_t earthengine_max_pixels_bytes(const TileGrid& grid) {
    return 2 * 3 * std::uint64_t(grid.width) * std::uint64_t(grid.height) + earthengine_max_answer_bytes;
}

// Tiles whose acquisition times one value:compute asks for. 64 makes a build cost
// 1 + 1/64 = 1.016 requests per image; more would save little (1.01 at 100) while each
// request evaluates that many image selections (the interactive deadline is 5 minutes)
// and a failed one costs all its tiles their time.
inline constexpr std::size_t earthengine_times_per_request = 64;

// The chosen image (not yet visualized) and the computePixels body built on it.
nlohmann::json earthengine_image_node(const SourceConfig& source, const TileGrid& grid);
nlohmann::json earthengine_compute_pixels_body(const SourceConfig& source, const TileGrid& grid);
// One value:compute body for the acquisition times of the images chosen over
// `footprints`, as earthengine_image_node chooses them: the answer's `result` is a list
// in footprint order, each a list of the chosen image's system:time_start, empty when
// no image is there.
nlohmann::json earthengine_times_body(const SourceConfig& source, std::span<const LonLatBox> footprints);
// The times of such an answer's `result`, in footprint order (nullopt: no image), or
// nullopt when it is not a list of `count` such lists.
std::optional<std::vector<std::optional<long long>>> parse_earthengine_times(const nlohmann::json& result, std::size_t count);

// Why a tile cannot be asked for in one request, or nullopt.
std::optional<std::string> earthengine_request_too_large(const TileGrid& grid);

// A failed Earth Engine response as a message a person can act on.
std::string describe_earthengine_failure(const HttpResult& result, const SourceConfig& source);
// What a tile with no image in the source's date range is told.
std::string earthengine_no_image_message(const SourceConfig& source);

struct EarthEngineImage {
    std::uint64_t id = 0;
    bool ok = false;
    RgbImage image;
    long long time_ms = 0;  // acquisition time of the image used, ms since 1970 (0 if unknown)
    std::string error;
    bool no_imagery = false; // the collection has no image over the tile in the date range
    bool job_only = false;   // failed before any request: the grid's own fault (FetchedTile::job_only)
};

// Acquisition times looked up ahead (for the batch after): tile id -> the footprint it was
// looked up for and the time (nullopt: no image there). Used only for the same id and footprint.
struct KnownTime {
    LonLatBox box;
    std::optional<long long> time;
};
using KnownTimes = std::map<std::uint64_t, KnownTime>;

// `project`: the Cloud project for the requests (the source's, else the key's). `known`:
// times looked up before, taken instead of asking again; `ahead`: tiles of the next batch,
// whose times are looked up alongside and left in `known` (failed look-ups are not kept).
void fetch_earthengine_images(const SourceConfig& source, const std::string& project,
                              const std::vector<std::pair<std::uint64_t, TileGrid>>& grids, HttpEngine& engine,
                              TokenCache& tokens, const std::function<void(EarthEngineImage&&)>& on_image, KnownTimes* known = nullptr,
                              const std::vector<std::pair<std::uint64_t, TileGrid>>& ahead = {});

} // namespace skyscript::imagery
