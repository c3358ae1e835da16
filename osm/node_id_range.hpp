#pragma once
// The largest node id of an input, before reading it: what a dense node index costs
// (8 bytes × the largest id) depends on it, not on the file's size.

#include <cstdint>
#include <optional>
#include <string>

namespace skyscript::osm {

// For a PBF file sorted by type (nodes first, as osmium and Geofabrik write them): a
// scan of the blob headers and a binary search for the last blob holding nodes, so a few
// blobs are decoded however large the file. Other formats are read whole (nodes only).
// Nothing when the file has no nodes or cannot be read (the extract reports why).
std::optional<std::uint64_t> largest_node_id(const std::string& path);

} // namespace skyscript::osm
