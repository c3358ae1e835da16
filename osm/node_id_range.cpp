#include "osm/node_id_range.hpp"

#include "osm/sorted_pbf.hpp"

#include <osmium/io/any_input.hpp>

#include <algorithm>

namespace skyscript::osm {

namespace {

// The largest positive node id in blob i, nothing when it has no such node.
std::optional<std::uint64_t> largest_in_blob(const PbfBlobs& blobs, std::size_t i) {
    std::optional<std::uint64_t> largest;
    for (const auto& buffer : blobs.decode(i, osmium::osm_entity_bits::node))
        for (const auto& node : buffer.select<osmium::Node>())
            if (node.id() > 0) largest = std::max(largest.value_or(0), node.positive_id());
    return largest;
}

std::optional<std::uint64_t> largest_in_pbf(const std::string& path) {
    const auto blobs = PbfBlobs::open(path);
    if (!blobs || blobs->size() == 0) return std::nullopt;
    // Blobs with nodes come first: the last of them holds the largest id.
    const std::size_t past_nodes = blobs->first([&](std::size_t i) { return !largest_in_blob(*blobs, i); });
    if (past_nodes == 0) return std::nullopt;
    return largest_in_blob(*blobs, past_nodes - 1);
}

} // namespace

std::optional<std::uint64_t> largest_node_id(const std::string& path) {
    try {
        osmium::io::File file{path};
        if (file.format() == osmium::io::file_format::pbf || file.format() == osmium::io::file_format::unknown)
            return largest_in_pbf(path);
        osmium::io::Reader reader{file, osmium::osm_entity_bits::node, osmium::io::read_meta::no};
        std::optional<std::uint64_t> largest;
        while (auto buffer = reader.read())
            for (const auto& node : buffer.select<osmium::Node>())
                if (node.id() > 0) largest = std::max(largest.value_or(0), node.positive_id());
        reader.close();
        return largest;
    } catch (const std::exception&) {
        return std::nullopt; // not readable: the extract itself says why
    }
}

} // namespace skyscript::osm
