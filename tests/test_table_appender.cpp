// The objects table written as pages straight into the file (table_appender.hpp) from records
// made by sqlite_record.hpp is what SQLite's own INSERTs make: the same values, of the same
// types, in records of the same size, in a file PRAGMA integrity_check passes, at several page
// sizes (512 bytes: many levels of interior pages and long overflow chains).

#include "pipeline/catalog/sqlite_record.hpp"
#include "pipeline/catalog/table_appender.hpp"
#include "pipeline/common/sqlite_db.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

using namespace skyscript::pipeline;

namespace {

struct Row {
    std::int64_t id;
    std::int64_t i;
    double r;
    std::string s, b;
    bool b_null;
};

constexpr const char* schema = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, i INTEGER, r REAL, s TEXT, b BLOB, n REAL)";

std::vector<Row> make_rows(std::size_t page_size) {
    const std::int64_t ints[] = {0, 1, -1, 127, 128, -128, -129, 32767, 32768, 8388607, 8388608, 2147483647, 2147483648LL,
                                 140737488355327LL, 140737488355328LL, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
    const double reals[] = {0.0, -0.0, 1.0, 2.5, 30.0, -7.0, 1e-300, -1e300, 1e15, 140737488355327.0, 140737488355328.0, 9.3e18, -9.3e18,
                            std::nan(""), std::numeric_limits<double>::infinity(), 0.1};
    // Payload sizes around where a cell spills into overflow pages, and chains several pages long.
    const std::size_t u = page_size;
    const std::size_t sizes[] = {0, 1, 50, u - 36, u - 35, u - 34, u - 3, u, u + 1, 2 * u, 3 * u + 7, 7 * u};
    std::mt19937_64 rng(7);
    std::vector<Row> rows;
    std::int64_t id = 0;
    for (std::size_t k = 0; k < 3000; ++k) {
        Row row;
        id += 1 + static_cast<std::int64_t>(rng() % 3); // increasing, with gaps (a sampled catalog's fids)
        row.id = id;
        row.i = ints[k % std::size(ints)];
        row.r = reals[k % std::size(reals)];
        const std::size_t n = k % 5 == 0 ? sizes[(k / 5) % std::size(sizes)] : rng() % 200;
        row.s.resize(n / 2);
        for (auto& c : row.s) c = static_cast<char>(rng()); // any byte: NULs, invalid UTF-8
        row.b.resize(n);
        for (auto& c : row.b) c = static_cast<char>(rng());
        row.b_null = k % 11 == 3;
        rows.push_back(std::move(row));
    }
    return rows;
}

// Every row's values with their types, as SQLite reads them back.
std::string dump(SqliteDb& db) {
    auto q = db.prepare("SELECT id, typeof(i), quote(i), typeof(r), quote(r), typeof(s), hex(s), typeof(b), hex(b), quote(n) FROM t ORDER BY id");
    std::string out;
    while (q.step()) {
        for (int c = 0; c < 10; ++c) out += q.column_text(c) + "|";
        out += '\n';
    }
    return out;
}

std::string one(SqliteDb& db, const std::string& sql) {
    auto q = db.prepare(sql);
    return q.step() ? q.column_text(0) : "";
}

} // namespace

TEST_CASE("appended pages hold what SQLite's INSERTs hold, in a valid file, at page sizes 512, 4096 and 16384") {
    for (const std::size_t page_size : {512, 4096, 16384}) {
        CAPTURE(page_size);
        const auto dir = skyscript::test::fresh_dir("table_appender_" + std::to_string(page_size));
        const auto rows = make_rows(page_size);
        const std::string pragma = "PRAGMA page_size = " + std::to_string(page_size) + ";";
        SqliteDb inserted(dir + "/inserted.db");
        inserted.exec(pragma + schema);
        inserted.exec("BEGIN");
        {
            auto ins = inserted.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)");
            for (const auto& row : rows) {
                ins.bind(1, row.id).bind(2, row.i).bind(3, row.r).bind(4, std::string_view{row.s});
                if (row.b_null) ins.bind_null(5);
                else ins.bind_blob(5, row.b.data(), row.b.size());
                ins.bind_null(6);
                ins.step();
                ins.reset();
            }
        }
        inserted.exec("COMMIT");

        const std::string path = dir + "/appended.db";
        std::int64_t root = 0;
        {
            SqliteDb made(path);
            made.exec(pragma + schema);
            root = std::stoll(one(made, "SELECT rootpage FROM sqlite_schema WHERE name = 't'"));
        }
        {
            SqliteTableAppender appender(path, static_cast<std::uint32_t>(root));
            std::string record;
            for (const auto& row : rows) {
                record.clear();
                using V = SqliteValue;
                const V values[] = {V::null_value(), V::int_value(row.i), V::real_value(row.r), V::text_value(row.s),
                                    row.b_null ? V::null_value() : V::blob_value(std::string_view{row.b}.substr(0, row.b.size() / 3), std::string_view{row.b}.substr(row.b.size() / 3)),
                                    V::null_value()};
                append_sqlite_record(record, values);
                appender.append(row.id, record);
            }
            appender.finish();
            CHECK(appender.rows() == rows.size());
        }
        SqliteDb appended(path);
        CHECK(one(appended, "PRAGMA integrity_check") == "ok");
        const auto expected = dump(inserted);
        CHECK(dump(appended) == expected);
        // Records of the same size as SQLite's own (the same serial types chosen), in as many pages or fewer.
        CHECK(one(appended, "SELECT sum(payload) FROM dbstat WHERE name = 't'") == one(inserted, "SELECT sum(payload) FROM dbstat WHERE name = 't'"));
        CHECK(std::stoll(one(appended, "SELECT count(*) FROM dbstat WHERE name = 't'")) <= std::stoll(one(inserted, "SELECT count(*) FROM dbstat WHERE name = 't'")));
        // An ordinary table afterwards: SQLite inserts, looks up and deletes in it.
        appended.exec("INSERT INTO t (i) VALUES (42); DELETE FROM t WHERE id % 7 = 0;");
        CHECK(one(appended, "PRAGMA integrity_check") == "ok");
        CHECK(one(appended, "SELECT i FROM t WHERE id = " + std::to_string(rows.back().id + 1)) == "42");
        CHECK(one(appended, "SELECT count(*) FROM t WHERE id = " + std::to_string(rows[1000].id)) == (rows[1000].id % 7 == 0 ? "0" : "1"));
    }
}

TEST_CASE("the appender refuses rows out of order, a table that is not empty, and a file that is not a database, naming the file") {
    const auto dir = skyscript::test::fresh_dir("table_appender_errors");
    const std::string path = dir + "/t.db";
    std::int64_t root = 0;
    {
        SqliteDb db(path);
        db.exec(schema);
        root = std::stoll(one(db, "SELECT rootpage FROM sqlite_schema WHERE name = 't'"));
    }
    std::string record;
    append_sqlite_record(record, std::vector<SqliteValue>{SqliteValue::null_value(), SqliteValue::int_value(5)});
    {
        SqliteTableAppender appender(path, static_cast<std::uint32_t>(root));
        appender.append(10, record);
        CHECK_THROWS_WITH_AS(appender.append(10, record), doctest::Contains((path + ": rowid 10 after 10").c_str()), SqliteError);
        CHECK_THROWS_WITH_AS(appender.append(3, record), doctest::Contains("increasing order"), SqliteError);
        appender.finish();
        CHECK_THROWS_WITH_AS(appender.append(11, record), doctest::Contains("after the table was finished"), SqliteError);
    }
    {
        SqliteDb db(path);
        CHECK(one(db, "PRAGMA integrity_check") == "ok");
        CHECK(one(db, "SELECT i FROM t WHERE id = 10") == "5");
    }
    CHECK_THROWS_WITH_AS(SqliteTableAppender(path, static_cast<std::uint32_t>(root)), doctest::Contains("is not an empty table"), SqliteError);
    CHECK_THROWS_WITH_AS(SqliteTableAppender(path, 999), doctest::Contains("no page 999"), SqliteError);
    skyscript::test::run("printf 'not a database at all, but long enough to have a header of a hundred bytes .......................' > " +
                         skyscript::test::sh_quote(dir + "/text.db"));
    CHECK_THROWS_WITH_AS(SqliteTableAppender(dir + "/text.db", 2), doctest::Contains((dir + "/text.db: not an SQLite database").c_str()), SqliteError);
    CHECK_THROWS_WITH_AS(SqliteTableAppender(dir + "/missing.db", 2), doctest::Contains("cannot open"), SqliteError);
}

TEST_CASE("every payload size from 0 to four pages long, around each point where a cell spills into overflow pages") {
    const auto dir = skyscript::test::fresh_dir("table_appender_sizes");
    SqliteDb inserted(dir + "/inserted.db"), made(dir + "/appended.db");
    for (auto* db : {&inserted, &made}) db->exec(std::string("PRAGMA page_size = 512;") + schema);
    const auto root = std::stoll(one(made, "SELECT rootpage FROM sqlite_schema WHERE name = 't'"));
    made.close();
    std::string blob(2048, '\0');
    for (std::size_t k = 0; k < blob.size(); ++k) blob[k] = static_cast<char>(k * 31 + 7);
    inserted.exec("BEGIN");
    {
        SqliteTableAppender appender(dir + "/appended.db", static_cast<std::uint32_t>(root));
        auto ins = inserted.prepare("INSERT INTO t (id, b) VALUES (?, ?)");
        std::string record;
        for (std::size_t n = 0; n <= blob.size(); ++n) {
            ins.bind(1, static_cast<std::int64_t>(n + 1)).bind_blob(2, blob.data(), n);
            ins.step();
            ins.reset();
            record.clear();
            using V = SqliteValue;
            const V values[] = {V::null_value(), V::null_value(), V::null_value(), V::null_value(), V::blob_value(std::string_view{blob}.substr(0, n)), V::null_value()};
            append_sqlite_record(record, values);
            appender.append(static_cast<std::int64_t>(n + 1), record);
        }
        appender.finish();
    }
    inserted.exec("COMMIT");
    SqliteDb appended(dir + "/appended.db");
    CHECK(one(appended, "PRAGMA integrity_check") == "ok");
    CHECK(dump(appended) == dump(inserted));
    CHECK(one(appended, "SELECT sum(payload) FROM dbstat WHERE name = 't'") == one(inserted, "SELECT sum(payload) FROM dbstat WHERE name = 't'"));
}

TEST_CASE("a table past the first GiB leaves the lock-byte page unused, as SQLite does") {
    // SQLite never uses the page holding byte 2^30 of the file; a catalog of the planet's size
    // crosses it. 64 KB pages and 1 MB rows (overflow chains) reach it with the fewest pages.
    const auto dir = skyscript::test::fresh_dir("table_appender_gib");
    const std::string path = dir + "/big.db";
    std::int64_t root = 0;
    {
        SqliteDb made(path);
        made.exec(std::string("PRAGMA page_size = 65536;") + schema);
        root = std::stoll(one(made, "SELECT rootpage FROM sqlite_schema WHERE name = 't'"));
    }
    constexpr std::int64_t rows = 1040; // 1,040 MB: past byte 2^30
    std::string blob(1 << 20, '\0');
    {
        SqliteTableAppender appender(path, static_cast<std::uint32_t>(root));
        std::string record;
        for (std::int64_t id = 1; id <= rows; ++id) {
            for (std::size_t k = 0; k < blob.size(); k += 4096) blob[k] = static_cast<char>(id + static_cast<std::int64_t>(k >> 12));
            record.clear();
            using V = SqliteValue;
            const V values[] = {V::null_value(), V::int_value(id), V::null_value(), V::null_value(), V::blob_value(blob), V::null_value()};
            append_sqlite_record(record, values);
            appender.append(id, record);
        }
        appender.finish();
    }
    SqliteDb db(path);
    CHECK(std::stoll(one(db, "PRAGMA page_count")) * 65536 > (1LL << 30) + 65536);
    CHECK(one(db, "PRAGMA integrity_check") == "ok");
    CHECK(one(db, "SELECT count(*) FROM t") == std::to_string(rows));
    // Rows on both sides of the lock-byte page read back whole.
    for (const std::int64_t id : {std::int64_t{1}, std::int64_t{1020}, std::int64_t{1024}, rows}) {
        CAPTURE(id);
        CHECK(one(db, "SELECT length(b) FROM t WHERE id = " + std::to_string(id)) == std::to_string(blob.size()));
        CHECK(one(db, "SELECT hex(substr(b, 4097, 1)) = printf('%02X', (id + 1) % 256) FROM t WHERE id = " + std::to_string(id)) == "1");
    }
    std::filesystem::remove(path);
}
