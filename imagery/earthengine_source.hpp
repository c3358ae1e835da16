#pragma once
// The `earthengine` source kind: for each tile, one computePixels request whose
// expression graph picks "the least cloudy, most recent image of collection C over
// the tile within the date range", selects the RGB bands and visualizes them to
// 8-bit, on the tile's own grid; and one value:compute request for that image's
// acquisition time (system:time_start). Function and argument names follow the
// official client's serializer (ImageCollection.load, Collection.filter,
// Filter.intersects, Filter.dateRangeContains, Collection.limit, Collection.first,
// Image.visualize, Element.get).
// Limits enforced before sending: 48 MB (50,331,648 bytes) uncompressed and 32,768 px
// a side per request; 40 requests in flight and 100 requests/s per source unless the
// source asks for less. HTTP errors become messages that say what to do.
// The access token is read when each request is sent, so a batch may outlive many
// tokens (TokenCache renews them before they expire); a 401 renews it and resends once.

#include "http_engine.hpp"
#include "rgb_image.hpp"
#include "service_account.hpp"
#include "source_config.hpp"
#include "tile_grid.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace skyscript::imagery {

inline constexpr std::uint64_t earthengine_max_request_bytes = 50331648;
inline constexpr int earthengine_max_side_px = 32768;
inline constexpr int earthengine_max_in_flight = 40;
inline constexpr double earthengine_max_requests_per_second = 100;

// The chosen image (not yet visualized) and the two request bodies built on it.
nlohmann::json earthengine_image_node(const SourceConfig& source, const TileGrid& grid);
nlohmann::json earthengine_compute_pixels_body(const SourceConfig& source, const TileGrid& grid);
nlohmann::json earthengine_time_body(const SourceConfig& source, const TileGrid& grid);

// Why a tile cannot be asked for in one request, or nullopt.
std::optional<std::string> earthengine_request_too_large(const TileGrid& grid);

// A failed Earth Engine response as a message a person can act on.
std::string describe_earthengine_failure(const HttpResult& result, const SourceConfig& source);

struct EarthEngineImage {
    std::uint64_t id = 0;
    bool ok = false;
    RgbImage image;
    long long time_ms = 0;  // acquisition time of the image used, ms since 1970 (0 if unknown)
    std::string error;
};

// `project`: the Cloud project for the requests (the source's, else the key's).
void fetch_earthengine_images(const SourceConfig& source, const std::string& project,
                              const std::vector<std::pair<std::uint64_t, TileGrid>>& grids, HttpEngine& engine,
                              TokenCache& tokens, const std::function<void(EarthEngineImage&&)>& on_image);

} // namespace skyscript::imagery
