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

struct StacSettings : SourceSettings {
    std::string api;                 // the STAC API root, without a trailing slash
    std::string collection;
    std::vector<std::string> assets; // one RGB asset, or three single-band ones (R, G, B)
    std::optional<double> max_cloud; // eo:cloud_cover below this, in per cent
    // "planetary-computer": asset hrefs are signed with a SAS token from token_url/{collection}.
    std::string sign;
    std::string token_url = "https://planetarycomputer.microsoft.com/api/sas/v1/token";
};

const SourceKind& stac_kind();

} // namespace skyscript::imagery
