#pragma once
// STAC API Item Search for the `stac` kind (docs/sources.md; facts in docs/stac-research.md):
// the POST /search body for a group of tiles, the items of an answer, its `next` page in
// the three shapes live servers send, and which items fall on a tile. Pure functions, no
// I/O: the source (stac_kind.cpp) sends the requests through the HTTP engine.

#include "imagery/coverage_shape.hpp"
#include "imagery/tile_grid.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace skyscript::imagery {

struct SourceConfig;
struct StacSortKey;

struct StacItem {
    std::string id, collection, datetime;
    LonLatBox bbox{0, 0, 0, 0};
    // Its geometry (Polygon or MultiPolygon), finer than the bbox: a Sentinel-2 or Landsat
    // item's data is a slanted swath within it. Null when absent or unreadable (the bbox serves).
    std::shared_ptr<const CoverageShape> footprint;
    std::optional<double> cloud_cover;  // eo:cloud_cover, when the item has it
    std::vector<std::string> hrefs;     // the source's assets, in the order of `assets`
    long long time_ms = 0;              // datetime as ms since 1970 (0 when unreadable)
    // The span it was taken in, ms since 1970: datetime, or start_datetime..end_datetime; none
    // when unreadable. A server that ignores the search's datetime is checked against it.
    std::optional<long long> span_start_ms, span_end_ms;
    std::vector<nlohmann::json> sort_values; // the item's value of each sortby key (null: it has none)
};

// What an API offers beyond core item search, from its landing page's conformsTo
// (swisstopo's has no sort; an API without query gets its items filtered here).
// Not told (no conformsTo): query and sort are tried, CQL2 filter is not. `post`: whether
// it takes POST /search: the spec makes GET the one every API has and POST optional, so a
// landing page whose `search` links name GET only is searched by GET (no links: POST).
struct StacAbilities {
    bool query = true, sort = true, filter = false, post = true;
};
StacAbilities stac_abilities(const nlohmann::json& landing);

// The search for the items over `box`: collections, bbox, datetime from `dates`,
// eo:cloud_cover below max_cloud (query extension where offered, else a CQL2-JSON filter
// where that is), the source's sortby (sort extension, where offered), limit.
nlohmann::json stac_search_body(const SourceConfig& source, const LonLatBox& box, int limit, const StacAbilities& can = {});

// The same search as a GET query string (without '?'): the POST body's members in the GET
// forms of the spec and its extensions (bbox and collections comma-joined, sortby as
// +field,-field, query and a CQL2-JSON filter as JSON text with filter-lang), URL-encoded.
std::string stac_search_query(const nlohmann::json& body);

// The same choice made here, whatever the API did: items at or over max_cloud (or without a
// cloud cover when max_cloud is set) dropped, the rest in the source's sortby order, then by id.
void stac_filter_and_sort(std::vector<StacItem>& items, const SourceConfig& source);

// The items of a search answer that carry every asset the source reads (a key, or a pattern
// with * and ? matched against the asset keys and file names); items missing one are
// skipped. Each item's values of the `sortby` properties are kept for stac_filter_and_sort.
// Throws std::runtime_error when `page` is not a FeatureCollection. A relative asset href is
// resolved against its item's `self` link, else against `page_url` (the URL the page came from).
std::vector<StacItem> stac_items(const nlohmann::json& page, const std::vector<std::string>& assets, const std::vector<StacSortKey>& sortby = {},
                                 const std::string& page_url = "");

// The request for the next page, or nullopt on the last: a `next` link with method POST
// sends its `body` (merged into `sent` when `merge` is true), with GET its href; a relative
// href is resolved against `page_url`.
struct StacNext {
    std::string url, method;
    nlohmann::json body; // POST only
};
std::optional<StacNext> stac_next_page(const nlohmann::json& page, const nlohmann::json& sent, const std::string& page_url = "");

// How many items the server says match the search, from the first page's numberMatched or
// context.matched (both optional hints); nullopt when it says nothing readable.
std::optional<std::uint64_t> stac_matched(const nlohmann::json& page);

// What `item` holds in memory, estimated: its strings, hrefs and sort values, and its
// footprint's edges and latitude bands (about 48 bytes a point).
std::size_t stac_item_bytes(const StacItem& item);

// The items whose footprint (else bbox) meets the tile's box, in the answer's order (the sortby order).
std::vector<const StacItem*> stac_items_on_tile(const std::vector<StacItem>& items, const LonLatBox& tile);

// "2021-07-01T10:20:30.123Z" (or +hh:mm) -> ms since 1970; nullopt when it does not parse.
std::optional<long long> parse_iso_time_ms(const std::string& text);

} // namespace skyscript::imagery
