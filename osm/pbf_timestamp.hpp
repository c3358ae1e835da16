#pragma once
// The date of an OSM file's data, from its header: the replication timestamp a planet or
// Geofabrik extract carries (osmosis_replication_timestamp), else the header's `timestamp`;
// "" when it has neither or cannot be read. The extract records it in the catalog, so the
// dataset card dates the data the build was made from, not whatever file is at that path later.

#include <string>

namespace skyscript::osm {

std::string pbf_timestamp(const std::string& path);

} // namespace skyscript::osm
