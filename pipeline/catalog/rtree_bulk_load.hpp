#pragma once
// Fills an empty SQLite R*Tree virtual table (2-D, 32-bit float) in one pass by
// writing a Sort-Tile-Recursive packed tree straight into its shadow tables
// (%_node, %_parent, %_rowid), in the node format of SQLite's rtree.c. Inserting
// row by row runs the R* split algorithm per row and costs more than reading the
// whole PBF; packing costs a sort. The result passes SQLite's rtreecheck() and stays
// an ordinary R*Tree: later inserts and deletes through the table work as usual.

#include <cstdint>
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

// In two steps. pack_rtree writes the nodes (%_node, %_parent) through `db`, in its open
// transaction; `table` must exist (CREATE VIRTUAL TABLE ... USING rtree(id, minx, maxx,
// miny, maxy)) and be empty. The entries are reordered in place, left in leaf order (they
// may live in a memory-mapped file). Then, once that transaction is committed and SQLite's
// connection to the file closed, write_rtree_rowids writes %_rowid (object id -> leaf node,
// a row an object: the largest of the three) as pages (table_appender.hpp); it may reorder
// the entries again.
struct PackedRtree {
    std::size_t fanout;
    bool root_only;         // the objects fit in the root node
    std::uint32_t rowid_root; // %_rowid's root page
};
PackedRtree pack_rtree(SqliteDb& db, const std::string& table, std::span<RtreeEntry> entries);
void write_rtree_rowids(const std::string& path, const PackedRtree& packed, std::span<RtreeEntry> leaves);

} // namespace skyscript::pipeline
