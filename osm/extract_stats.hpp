#pragma once
// What one extract run saw and kept; printed as the closing summary and stored in the catalog.

#include "osm/catalog_row.hpp"

#include <cstdint>

namespace skyscript::osm {

struct ExtractStats {
    std::uint64_t nodes_read = 0, ways_read = 0, relations_read = 0;
    std::uint64_t points = 0, lines = 0, areas = 0;   // kept objects by kind
    std::uint64_t invalid_lines = 0;      // fewer than 2 distinct points
    std::uint64_t invalid_areas = 0;      // the assembler could not build a valid polygon
    std::uint64_t missing_locations = 0;  // lines dropped: a node is not in the input
    std::uint64_t incomplete_relations = 0; // multipolygons whose member ways are not in the input
    std::uint64_t off_the_globe = 0;      // points and lines with a node beyond latitude ±90 or longitude ±180
    std::uint64_t outside_region = 0;     // dropped by --bbox / --polygon
    std::uint64_t hidden = 0;             // candidates nobody sees from above (tag_filters/hidden.tsv)
    std::uint64_t unreadable_tags = 0;    // nodes and ways whose tags held a NUL byte that left them unsplittable (tag_list_guard.hpp)
    std::uint64_t not_wanted = 0;         // rows the sink declined (RowSink::wants: sampling in the read)
    // Where the input's nodes lie (lon/lat), valid when nodes_located > 0: tells a region
    // that misses the input, e.g. a --bbox given as lat,lon, from one that is just empty.
    Box node_bounds{180, 90, -180, -90};
    std::uint64_t nodes_located = 0;

    std::uint64_t kept() const noexcept { return points + lines + areas; }
    std::uint64_t invalid() const noexcept { return invalid_lines + invalid_areas + missing_locations + incomplete_relations + off_the_globe; }
};

} // namespace skyscript::osm
