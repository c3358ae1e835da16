#include "tiny_pbf.hpp"

#include <cmath>

// The format: https://wiki.openstreetmap.org/wiki/PBF_Format (fileformat.proto, osmformat.proto).
namespace skyscript::test {

namespace {

void varint(std::string& out, std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    out.push_back(static_cast<char>(v));
}
std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }
void key(std::string& out, int field, int wire) { varint(out, static_cast<std::uint64_t>(field) << 3 | static_cast<unsigned>(wire)); }
void bytes(std::string& out, int field, const std::string& b) {
    key(out, field, 2);
    varint(out, b.size());
    out += b;
}
void uint_field(std::string& out, int field, std::uint64_t v) {
    key(out, field, 0);
    varint(out, v);
}

// The block's string table (index 0 is the empty string, as writers leave it).
struct Strings {
    std::vector<std::string> all{""};
    std::uint32_t id(const std::string& s) {
        for (std::size_t i = 1; i < all.size(); ++i)
            if (all[i] == s) return static_cast<std::uint32_t>(i);
        all.push_back(s);
        return static_cast<std::uint32_t>(all.size() - 1);
    }
};

void tags(std::string& out, Strings& st, const TinyTags& t) {
    std::string keys, vals;
    for (const auto& [k, v] : t) varint(keys, st.id(k)), varint(vals, st.id(v));
    if (t.empty()) return;
    bytes(out, 2, keys);
    bytes(out, 3, vals);
}

// PrimitiveBlock: stringtable (1), one primitivegroup (2); granularity 100 nanodegrees.
std::string block(Strings& st, const std::string& group) {
    std::string table;
    for (const auto& s : st.all) bytes(table, 1, s);
    std::string b;
    bytes(b, 1, table);
    bytes(b, 2, group);
    return b;
}

// BlobHeader and Blob (raw), behind the header's 4-byte big-endian size.
std::string blob(const std::string& type, const std::string& data) {
    std::string body;
    bytes(body, 1, data);                 // raw
    uint_field(body, 2, data.size());     // raw_size
    std::string header;
    bytes(header, 1, type);
    uint_field(header, 3, body.size());   // datasize
    std::string out;
    const auto n = static_cast<std::uint32_t>(header.size());
    out += static_cast<char>(n >> 24), out += static_cast<char>(n >> 16), out += static_cast<char>(n >> 8), out += static_cast<char>(n);
    return out + header + body;
}

std::int64_t coord(double degrees) { return std::llround(degrees * 1e7); }

std::string nodes_blob(const std::vector<TinyNode>& nodes) {
    Strings st;
    std::string group;
    for (const auto& n : nodes) {
        std::string m;
        key(m, 1, 0), varint(m, zigzag(n.id));
        tags(m, st, n.tags);
        key(m, 8, 0), varint(m, zigzag(coord(n.lat)));
        key(m, 9, 0), varint(m, zigzag(coord(n.lon)));
        bytes(group, 1, m);
    }
    return blob("OSMData", block(st, group));
}

std::string ways_blob(const std::vector<TinyWay>& ways) {
    Strings st;
    std::string group;
    for (const auto& w : ways) {
        std::string m, refs;
        uint_field(m, 1, static_cast<std::uint64_t>(w.id));
        tags(m, st, w.tags);
        std::int64_t last = 0;
        for (auto id : w.nodes) varint(refs, zigzag(id - last)), last = id;
        bytes(m, 8, refs);
        bytes(group, 3, m);
    }
    return blob("OSMData", block(st, group));
}

std::string relations_blob(const std::vector<TinyRelation>& relations) {
    Strings st;
    std::string group;
    for (const auto& r : relations) {
        std::string m, roles, ids, types;
        uint_field(m, 1, static_cast<std::uint64_t>(r.id));
        tags(m, st, r.tags);
        std::int64_t last = 0;
        for (const auto& member : r.members) {
            varint(roles, st.id(member.role));
            varint(ids, zigzag(member.ref - last)), last = member.ref;
            varint(types, member.type == 'n' ? 0 : member.type == 'w' ? 1 : 2);
        }
        bytes(m, 8, roles);
        bytes(m, 9, ids);
        bytes(m, 10, types);
        bytes(group, 4, m);
    }
    return blob("OSMData", block(st, group));
}

} // namespace

std::string tiny_pbf(const TinyOsm& osm) {
    std::string header;
    bytes(header, 4, "OsmSchema-V0.6");
    if (osm.declare_sorted) bytes(header, 5, "Sort.Type_then_ID");
    bytes(header, 16, "skyscript tests");
    std::string out = blob("OSMHeader", header);
    const auto nodes = osm.nodes.empty() ? std::string() : nodes_blob(osm.nodes);
    const auto ways = osm.ways.empty() ? std::string() : ways_blob(osm.ways);
    out += osm.ways_first ? ways + nodes : nodes + ways;
    if (!osm.relations.empty()) out += relations_blob(osm.relations);
    return out;
}

void add_square(TinyOsm& osm, std::int64_t way_id, std::int64_t first_node, double lon, double lat, double half, TinyTags tags) {
    const double corners[4][2] = {{lon - half, lat - half}, {lon + half, lat - half}, {lon + half, lat + half}, {lon - half, lat + half}};
    TinyWay w{way_id, {}, std::move(tags)};
    for (int i = 0; i < 4; ++i) {
        osm.nodes.push_back({first_node + i, corners[i][0], corners[i][1], {}});
        w.nodes.push_back(first_node + i);
    }
    w.nodes.push_back(first_node);
    osm.ways.push_back(std::move(w));
}

} // namespace skyscript::test
