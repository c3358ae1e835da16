#pragma once
// OSM PBF files written byte by byte for tests: any tag bytes (NUL, invalid UTF-8, values
// longer than OSM allows, which libosmium's own writer refuses to write), types in any
// order (unsorted input), members and node references that point nowhere.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace skyscript::test {

using TinyTags = std::vector<std::pair<std::string, std::string>>;

struct TinyNode {
    std::int64_t id;
    double lon, lat;
    TinyTags tags;
};
struct TinyWay {
    std::int64_t id;
    std::vector<std::int64_t> nodes;
    TinyTags tags;
};
struct TinyMember {
    char type; // n, w, r
    std::int64_t ref;
    std::string role;
};
struct TinyRelation {
    std::int64_t id;
    std::vector<TinyMember> members;
    TinyTags tags;
};

struct TinyOsm {
    std::vector<TinyNode> nodes;
    std::vector<TinyWay> ways;
    std::vector<TinyRelation> relations;
    bool ways_first = false;      // the ways' block before the nodes' (unsorted input)
    bool declare_sorted = true;   // the header's Sort.Type_then_ID, as osmium and Geofabrik write it
};

// The file's bytes: a header blob, then one raw (uncompressed) blob per object type.
std::string tiny_pbf(const TinyOsm& osm);

// A closed square way of 4 new nodes (ids first_node..first_node+3) around lon/lat,
// `half` degrees from the centre: appended to osm.
void add_square(TinyOsm& osm, std::int64_t way_id, std::int64_t first_node, double lon, double lat, double half, TinyTags tags);

} // namespace skyscript::test
