#pragma once
// Fills an empty SQLite R*Tree virtual table (2-D, 32-bit float) in one pass by
// writing a Sort-Tile-Recursive packed tree straight into its shadow tables
// (%_node, %_parent, %_rowid), in the node format of SQLite's rtree.c. Inserting
// row by row runs the R* split algorithm per row and costs more than reading the
// whole PBF; packing costs a sort. The result passes SQLite's rtreecheck() and stays
// an ordinary R*Tree: later inserts and deletes through the table work as usual.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace skyscript::pipeline {

class SqliteDb;

struct RtreeEntry {
    std::int64_t id;
    float minx, maxx, miny, maxy; // already rounded outwards to float
};

// Rounds a double box outwards to float, as rtree.c does for REAL columns.
RtreeEntry make_rtree_entry(std::int64_t id, double minx, double maxx, double miny, double maxy);

// `table` must exist (CREATE VIRTUAL TABLE ... USING rtree(id, minx, maxx, miny, maxy)) and be empty.
// The entries are reordered in place (they may live in a memory-mapped file).
void bulk_load_rtree(SqliteDb& db, const std::string& table, std::span<RtreeEntry> entries);

// bulk_load_rtree in two steps, for a caller that writes %_rowid (object id -> leaf node, the
// largest of the three tables: a row per object) itself, as pages (table_appender.hpp):
// pack_rtree writes the nodes (%_node, %_parent) and leaves `entries` in leaf order; then
// for_each_rtree_rowid gives every (id, leaf) in increasing id order (and may reorder them).
struct PackedRtree {
    std::size_t fanout;
    bool root_only;
};
PackedRtree pack_rtree(SqliteDb& db, const std::string& table, std::span<RtreeEntry> entries);
void for_each_rtree_rowid(std::span<RtreeEntry> leaves, const PackedRtree& packed, const std::function<void(std::int64_t id, std::int64_t leaf)>& put);

} // namespace skyscript::pipeline
