#pragma once
// The objects a second read of the same file makes rows of, and nothing else (sampling in the
// read, issue 25): the first read saw every row and what the sample keeps of them, so the
// second builds only those (and stores no node location: the first read's index serves it).
// Their rows come in the first read's order, and each takes the fid it had then.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace skyscript::osm {

struct ObjectSelection {
    struct Row {
        std::int64_t fid;
        std::int64_t osm_id;
        char osm_type; // n, w, r
    };
    std::vector<Row> rows; // in reading order (the first read's)
    // Their ids by type, ascending (sort() makes them from `rows`).
    std::vector<std::int64_t> nodes, ways, relations;
    // Ways the selected relations have as members (AreaManager fills it in pass 1): they need
    // their nodes' locations for the assembly even when they make no row of their own.
    std::vector<std::int64_t> member_ways;

    void add(char osm_type, std::int64_t osm_id, std::int64_t fid) { rows.push_back({fid, osm_id, osm_type}); }
    // Fills the id lists from `rows`.
    void sort() {
        nodes.clear(), ways.clear(), relations.clear();
        for (const auto& r : rows) (r.osm_type == 'n' ? nodes : r.osm_type == 'w' ? ways : relations).push_back(r.osm_id);
        for (auto* v : {&nodes, &ways, &relations}) {
            std::sort(v->begin(), v->end());
            v->erase(std::unique(v->begin(), v->end()), v->end());
        }
    }
    void sort_member_ways() {
        std::sort(member_ways.begin(), member_ways.end());
        member_ways.erase(std::unique(member_ways.begin(), member_ways.end()), member_ways.end());
    }
    bool node(std::int64_t id) const noexcept { return std::binary_search(nodes.begin(), nodes.end(), id); }
    bool way(std::int64_t id) const noexcept { return std::binary_search(ways.begin(), ways.end(), id); }
    bool relation(std::int64_t id) const noexcept { return std::binary_search(relations.begin(), relations.end(), id); }
    bool member_way(std::int64_t id) const noexcept { return std::binary_search(member_ways.begin(), member_ways.end(), id); }
};

} // namespace skyscript::osm
