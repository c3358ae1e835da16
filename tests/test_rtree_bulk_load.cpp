// The packed R*Tree written into SQLite's shadow tables is a real, valid R*Tree.

#include "pipeline/catalog/rtree_bulk_load.hpp"
#include "pipeline/common/sqlite_db.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <set>

using namespace skyscript::pipeline;

namespace {

struct Box {
    std::int64_t id;
    double minx, maxx, miny, maxy;
};

std::set<std::int64_t> query(SqliteDb& db, double x0, double x1, double y0, double y1) {
    auto q = db.prepare("SELECT id FROM rt WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?");
    q.bind(1, x0).bind(2, x1).bind(3, y0).bind(4, y1);
    std::set<std::int64_t> ids;
    while (q.step()) ids.insert(q.column_int(0));
    return ids;
}

std::string check(SqliteDb& db) {
    auto q = db.prepare("SELECT rtreecheck('rt')");
    q.step();
    return q.column_text(0);
}

} // namespace

TEST_CASE("packed R*Tree: every size from empty to several levels answers like a brute-force scan") {
    const auto dir = skyscript::test::fresh_dir("rtree_bulk");
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> lon(-10, 10), lat(40, 50), ext(0, 0.05);
    // Id steps: a catalog's fids (1, 2, ...), a sample of them, ids far apart (sorted, not tabled).
    for (std::size_t n : {0u, 1u, 50u, 51u, 52u, 2601u, 2602u, 20000u, 140000u})
    for (std::int64_t step : {1, 3, 1000}) {
        INFO("n = " << n << ", ids 1 + " << step << " i");
        const auto path = dir + "/t" + std::to_string(n) + "-" + std::to_string(step) + ".sqlite";
        auto made = std::make_unique<SqliteDb>(path);
        made->exec("CREATE VIRTUAL TABLE rt USING rtree(id, minx, maxx, miny, maxy)");
        std::vector<Box> boxes;
        std::vector<RtreeEntry> entries;
        for (std::size_t i = 0; i < n; ++i) {
            const double x = lon(rng), y = lat(rng);
            boxes.push_back({static_cast<std::int64_t>(i) * step + 1, x, x + ext(rng), y, y + ext(rng)});
            const auto& b = boxes.back();
            entries.push_back(make_rtree_entry(b.id, b.minx, b.maxx, b.miny, b.maxy));
        }
        // As the catalog writer does: the nodes through SQLite, the object-to-leaf rows as pages.
        made->exec("BEGIN");
        const auto packed = pack_rtree(*made, "rt", entries);
        made->exec("COMMIT");
        made.reset();
        write_rtree_rowids(path, packed, entries);
        SqliteDb db(path);
        CHECK(check(db) == "ok");
        auto count = db.prepare("SELECT count(*) FROM rt");
        count.step();
        CHECK(count.column_int(0) == static_cast<std::int64_t>(n));
        for (int k = 0; k < 20; ++k) {
            const double x = lon(rng), y = lat(rng), w = ext(rng) * 20;
            std::set<std::int64_t> expected;
            for (const auto& b : boxes)
                if (b.maxx >= x && b.minx <= x + w && b.maxy >= y && b.miny <= y + w) expected.insert(b.id);
            // float rounding is outwards, so the index may return a box that touches by a hair, never miss one
            const auto got = query(db, x, x + w, y, y + w);
            for (auto id : expected) CHECK(got.count(id) == 1);
            CHECK(got.size() <= expected.size() + 2);
        }
        // It stays an ordinary R*Tree: edits through the virtual table keep it valid.
        db.exec("INSERT INTO rt VALUES (999999999, 0.5, 0.6, 45.0, 45.1)");
        db.exec("DELETE FROM rt WHERE id % 2 = 0");
        CHECK(check(db) == "ok");
        CHECK(query(db, 0.55, 0.55, 45.05, 45.05).count(999999999) == 1);
    }
}

TEST_CASE("boxes are rounded outwards to float") {
    const double v = 0.1; // not representable in float
    const auto e = make_rtree_entry(1, v, v, v, v);
    CHECK(static_cast<double>(e.minx) <= v);
    CHECK(static_cast<double>(e.maxx) >= v);
    CHECK(e.minx < e.maxx);
}
