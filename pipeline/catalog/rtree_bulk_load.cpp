#include "pipeline/catalog/rtree_bulk_load.hpp"

#include "pipeline/catalog/sqlite_record.hpp"
#include "pipeline/catalog/table_appender.hpp"
#include "pipeline/common/sqlite_db.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

namespace skyscript::pipeline {

namespace {

constexpr std::size_t bytes_per_cell = 8 + 4 * 4; // rowid/child + 4 float coordinates

void put_be64(unsigned char* p, std::uint64_t v) {
    for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v);
}
void put_be32(unsigned char* p, std::uint32_t v) {
    for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v);
}
void put_be16(unsigned char* p, unsigned v) {
    p[0] = static_cast<unsigned char>(v >> 8);
    p[1] = static_cast<unsigned char>(v);
}

float round_down(double d) {
    float f = static_cast<float>(d);
    return static_cast<double>(f) > d ? std::nextafter(f, -INFINITY) : f;
}
float round_up(double d) {
    float f = static_cast<float>(d);
    return static_cast<double>(f) < d ? std::nextafter(f, INFINITY) : f;
}

// Sort-Tile-Recursive grouping: entries sorted into vertical slices by x centre,
// each slice sorted by y centre, then cut into runs of `fanout`. Sorted on every core (at
// the end of an extract, when nothing else runs: a tenth of the reading thread's work was
// these sorts); ties broken by id, so the order, and the file, are the same however the
// sorting is split.
void str_order(std::span<RtreeEntry> e, std::size_t fanout) {
    auto cx = [](const RtreeEntry& a) { return double(a.minx) + a.maxx; };
    auto cy = [](const RtreeEntry& a) { return double(a.miny) + a.maxy; };
    tbb::parallel_sort(e.begin(), e.end(), [&](const auto& a, const auto& b) { return cx(a) != cx(b) ? cx(a) < cx(b) : a.id < b.id; });
    const std::size_t leaves = (e.size() + fanout - 1) / fanout;
    const std::size_t slices = static_cast<std::size_t>(std::ceil(std::sqrt(double(leaves))));
    const std::size_t per_slice = slices * fanout;
    tbb::parallel_for(std::size_t{0}, (e.size() + per_slice - 1) / per_slice, [&](std::size_t k) {
        const auto begin = e.begin() + static_cast<std::ptrdiff_t>(k * per_slice);
        const auto end = e.begin() + static_cast<std::ptrdiff_t>(std::min(e.size(), (k + 1) * per_slice));
        std::sort(begin, end, [&](const auto& a, const auto& b) { return cy(a) != cy(b) ? cy(a) < cy(b) : a.id < b.id; });
    });
}

} // namespace

RtreeEntry make_rtree_entry(std::int64_t id, double minx, double maxx, double miny, double maxy) {
    return {id, round_down(minx), round_up(maxx), round_down(miny), round_up(maxy)};
}

PackedRtree pack_rtree(SqliteDb& db, const std::string& table, std::span<RtreeEntry> entries) {
    // The node size rtree.c chose at CREATE time is the length of the empty root node.
    std::size_t node_size = 0;
    {
        auto q = db.prepare("SELECT length(data) FROM \"" + table + "_node\" WHERE nodeno = 1");
        if (q.step()) node_size = static_cast<std::size_t>(q.column_int(0));
    }
    if (node_size < 4 + 2 * bytes_per_cell) throw SqliteError(db.path() + ": " + table + " is not an empty 2-D rtree");
    const std::size_t fanout = (node_size - 4) / bytes_per_cell;
    const PackedRtree packed{fanout, entries.size() <= fanout, table_root_page(db, table + "_rowid")};
    if (entries.empty()) return packed;

    db.exec("DELETE FROM \"" + table + "_node\"");
    auto put_node = db.prepare("INSERT INTO \"" + table + "_node\"(nodeno, data) VALUES (?, ?)");
    auto put_parent = db.prepare("INSERT INTO \"" + table + "_parent\"(nodeno, parentnode) VALUES (?, ?)");

    // Build bottom-up; the root must be node 1, so numbering starts at 2 and the
    // final single node is written as 1. `level` holds the entries of the current
    // level: object boxes first (in place, left in leaf order), then child node boxes
    // (id = child node number), 1/fanout as many, kept in memory.
    std::vector<RtreeEntry> upper;
    std::span<RtreeEntry> level = entries;
    std::vector<unsigned char> blob(node_size);
    std::int64_t next_node = 2;
    int depth = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> pending_parents; // (child, parent) of the level below
    for (;;) {
        const bool is_root = level.size() <= fanout;
        if (!is_root) str_order(level, fanout);
        std::vector<RtreeEntry> parents;
        for (std::size_t start = 0; start < level.size(); start += fanout) {
            const std::size_t n = std::min(fanout, level.size() - start);
            const std::int64_t node_no = is_root ? 1 : next_node++;
            std::fill(blob.begin(), blob.end(), 0);
            put_be16(blob.data(), is_root ? static_cast<unsigned>(depth) : 0);
            put_be16(blob.data() + 2, static_cast<unsigned>(n));
            RtreeEntry box{node_no, INFINITY, -INFINITY, INFINITY, -INFINITY};
            for (std::size_t i = 0; i < n; ++i) {
                const auto& c = level[start + i];
                unsigned char* cell = blob.data() + 4 + i * bytes_per_cell;
                put_be64(cell, static_cast<std::uint64_t>(c.id));
                put_be32(cell + 8, std::bit_cast<std::uint32_t>(c.minx));
                put_be32(cell + 12, std::bit_cast<std::uint32_t>(c.maxx));
                put_be32(cell + 16, std::bit_cast<std::uint32_t>(c.miny));
                put_be32(cell + 20, std::bit_cast<std::uint32_t>(c.maxy));
                box.minx = std::min(box.minx, c.minx);
                box.maxx = std::max(box.maxx, c.maxx);
                box.miny = std::min(box.miny, c.miny);
                box.maxy = std::max(box.maxy, c.maxy);
                if (depth > 0) pending_parents.emplace_back(c.id, node_no);
            }
            put_node.bind(1, node_no).bind_blob(2, blob.data(), blob.size());
            put_node.step();
            put_node.reset();
            parents.push_back(box);
        }
        for (const auto& [child, parent] : pending_parents) {
            put_parent.bind(1, child).bind(2, parent);
            put_parent.step();
            put_parent.reset();
        }
        pending_parents.clear();
        if (is_root) break;
        upper = std::move(parents);
        level = upper;
        ++depth;
    }
    return packed;
}

namespace {

// Every (id, leaf) in increasing id order: appends to %_rowid's B-tree. The leaf number follows
// from the position in `leaves`. Ids spanning at most a few times their count (a catalog's
// fids: 1..N, or a sample of them) are put in order by a table indexed by id; others are
// sorted, the leaf kept in minx (the leaves are written already).
void for_each_rtree_rowid(std::span<RtreeEntry> leaves, const PackedRtree& packed, const std::function<void(std::int64_t id, std::int64_t leaf)>& put) {
    if (leaves.empty()) return;
    auto leaf_of = [&](std::size_t position) { return static_cast<std::uint32_t>(packed.root_only ? 1 : 2 + position / packed.fanout); };
    const auto [lo, hi] = std::minmax_element(leaves.begin(), leaves.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    const std::int64_t min_id = lo->id;
    const std::uint64_t id_span = static_cast<std::uint64_t>(hi->id) - static_cast<std::uint64_t>(min_id);
    if (id_span < 4 * static_cast<std::uint64_t>(leaves.size())) {
        std::vector<std::uint32_t> leaf_by_id(id_span + 1, 0); // 0: no object has this id
        for (std::size_t i = 0; i < leaves.size(); ++i) leaf_by_id[static_cast<std::uint64_t>(leaves[i].id - min_id)] = leaf_of(i);
        for (std::size_t k = 0; k < leaf_by_id.size(); ++k)
            if (leaf_by_id[k]) put(min_id + static_cast<std::int64_t>(k), leaf_by_id[k]);
    } else {
        for (std::size_t i = 0; i < leaves.size(); ++i) leaves[i].minx = std::bit_cast<float>(leaf_of(i));
        tbb::parallel_sort(leaves.begin(), leaves.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        for (const auto& e : leaves) put(e.id, std::bit_cast<std::uint32_t>(e.minx));
    }
}

} // namespace

void write_rtree_rowids(const std::string& path, const PackedRtree& packed, std::span<RtreeEntry> leaves) {
    SqliteTableAppender rowids(path, packed.rowid_root);
    std::string record;
    for_each_rtree_rowid(leaves, packed, [&](std::int64_t id, std::int64_t leaf) {
        record.clear();
        const SqliteValue values[] = {SqliteValue::null_value(), SqliteValue::int_value(leaf)}; // rowid INTEGER PRIMARY KEY, nodeno
        append_sqlite_record(record, values);
        rowids.append(id, record);
    });
    rowids.finish();
}

} // namespace skyscript::pipeline
