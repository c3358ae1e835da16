#pragma once
// The `stac` source kind: imagery published as Cloud-Optimized GeoTIFFs behind a STAC API
// (Planetary Computer, Earth Search, swisstopo; docs/sources.md). Per batch of tiles: one
// item search per group of nearby tiles (items matched to tiles locally), then each tile
// read from its items' COGs through GDAL's /vsicurl/ (range requests, no download), the
// best item first and the next ones mosaicked in until the tile is covered. A tile no item
// falls on is "no imagery" (the job goes on to its next source).

#include "imagery/source_kind.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyscript::imagery {

// One key of the order items are tried in: an item property (eo:cloud_cover, datetime, gsd,
// ...), ascending or not. Items without it come after those with it.
struct StacSortKey {
    std::string property;
    bool ascending = true;
    bool operator==(const StacSortKey&) const = default;
};

struct StacSettings : SourceSettings {
    std::string api;                 // the STAC API root, without a trailing slash
    std::string collection;
    // One RGB asset, or three single-band ones (R, G, B): a key, or a pattern with * and ?
    // matched against each asset's key and its file name (swisstopo's keys are per item,
    // e.g. "*_0.1_2056.tif" for SWISSIMAGE's 10 cm asset), the first match in key order.
    std::vector<std::string> assets;
    std::optional<double> max_cloud; // eo:cloud_cover below this, in per cent
    // `sortby = ["+eo:cloud_cover", "-datetime"]`: the order items are tried in. Default:
    // least cloudy then newest with max_cloud, newest without (NAIP, SWISSIMAGE have no cloud cover).
    std::vector<StacSortKey> sortby;
    bool sortby_given = false; // set in the source's file (it then is part of the source key)
    // "planetary-computer": asset hrefs are signed with a SAS token from token_url/{collection}.
    std::string sign;
    std::string token_url = "https://planetarycomputer.microsoft.com/api/sas/v1/token";
    // The hosts whose assets get the token ("*.example.org": any below it): the storage the
    // token is for. Microsoft's planetary_computer client signs Azure Blob Storage's only.
    std::vector<std::string> sign_hosts{"*.blob.core.windows.net"};
    // What the items found for one fetch batch's tiles may hold in memory (MB, estimated:
    // stac_item_bytes): a server's footprints of thousands of points on every item of 50
    // pages held 0.8 GB for one search, and a batch makes a search for each group of tiles.
    double max_items_mb = 1024;
};

const SourceKind& stac_kind();

} // namespace skyscript::imagery
