// Planning by hand-checked cases (issue 9): a PBF made by osmium from OSM XML written here,
// with one object for each skip reason and objects that two sources can image, planned
// under each --source-policy; and the stem rule when a way and a relation share an id.

#include "pipeline/state/state_db.hpp"
#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include <csignal>
#include <sys/wait.h>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

struct OsmXml {
    std::string nodes, ways;
    long next = 1000;
    long node(double lon, double lat, const std::string& tags = "") {
        char buf[160];
        std::snprintf(buf, sizeof buf, "  <node id=\"%ld\" version=\"1\" lat=\"%.7f\" lon=\"%.7f\"", next, lat, lon);
        nodes += buf + (tags.empty() ? std::string("/>\n") : ">" + tags + "</node>\n");
        return next++;
    }
    // A closed square way of `side_m` metres centred on lon/lat (near 43.7 N).
    long square(double lon, double lat, double side_m, const std::string& tags) {
        const double dlat = side_m / 2 / 111130.0, dlon = side_m / 2 / (111320.0 * 0.7227);
        const long a = node(lon - dlon, lat - dlat), b = node(lon + dlon, lat - dlat), c = node(lon + dlon, lat + dlat),
                   d = node(lon - dlon, lat + dlat);
        const long id = next++;
        ways += "  <way id=\"" + std::to_string(id) + "\" version=\"1\">";
        for (long n : {a, b, c, d, a}) ways += "<nd ref=\"" + std::to_string(n) + "\"/>";
        ways += tags + "</way>\n";
        return id;
    }
    std::string xml() const { return "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + nodes + ways + "</osm>\n"; }
};

std::string tag(const std::string& k, const std::string& v) { return "<tag k=\"" + k + "\" v=\"" + v + "\"/>"; }

std::map<std::string, std::int64_t> skipped(const std::string& db) {
    std::map<std::string, std::int64_t> out;
    for (const auto& row : sql_column(db, "SELECT reason || char(9) || objects FROM skipped")) {
        const auto tab = row.find('\t');
        out[row.substr(0, tab)] = std::stoll(row.substr(tab + 1));
    }
    return out;
}

// SQLite's plan for `sql` on that database, a step a line (the `detail` column).
std::vector<std::string> query_plan_steps(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    std::vector<std::string> steps;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr) == SQLITE_OK)
        while (sqlite3_step(stmt) == SQLITE_ROW) steps.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return steps;
}

} // namespace

TEST_CASE("each skip reason and each source policy, on hand-made objects") {
    const auto& m = monaco();
    const auto dir = fresh_dir("plan-cases");
    OsmXml osm;
    osm.node(7.42, 43.735, tag("amenity", "bench"));                     // max GSD 0.1 m: too coarse for 0.5 and 0.6 m
    osm.node(7.50, 43.735, tag("natural", "tree"));                      // east of both coverages
    osm.square(7.42, 43.74, 5, tag("building", "yes"));                  // 5 m: under 100 px at 0.5 m
    osm.square(7.425, 43.7375, 2000, tag("landuse", "residential"));     // 2 km: over 1000 px at 0.6 m
    osm.node(7.4102, 43.735, tag("natural", "tree"));                    // 16 m inside the west edge: its 192 m tile leaves
    const long building = osm.square(7.425, 43.74, 100, tag("building", "yes")); // both sources may image it
    std::vector<long> trees;                                             // max GSD 0.6 m: both sources
    for (int i = 0; i < 24; ++i) trees.push_back(osm.node(7.418 + 0.0004 * i, 43.745, tag("natural", "tree")));
    write_file(dir + "/cases.osm", osm.xml());
    REQUIRE(run("osmium cat -O -o " + sh_quote(dir + "/cases.osm.pbf") + " " + sh_quote(dir + "/cases.osm")).exit_code == 0);
    // The same two sources listed both ways: a policy must choose by what the sources are, not by
    // their order (the coarse one first catches a `finest` that takes the first eligible source).
    const auto source = [&](const char* alias, const char* gsd) {
        return std::string("[[source]]\nalias = \"") + alias + "\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2021\ngsd = " + gsd +
               "\ncoverage = [7.41, 43.725, 7.435, 43.75]\n\n";
    };
    write_file(dir + "/coarse-first.toml", source("COARSE", "0.6") + source("FINE", "0.5"));
    write_file(dir + "/fine-first.toml", source("FINE", "0.5") + source("COARSE", "0.6"));

    auto plan = [&](const std::string& policy, const std::string& order = "coarse-first") {
        const auto out = dir + "/" + policy + "-" + order;
        fs::remove_all(out); // a fresh build each time (extract refuses a build's folder)
        REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(dir + "/cases.osm.pbf") + " -o " + sh_quote(out)).exit_code == 0);
        const auto r = run("timeout 120 " + sh_quote(binary()) + " plan " + sh_quote(out) + " --sources " + sh_quote(dir + "/" + order + ".toml") +
                           " --source-policy " + policy);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return out + "/state.sqlite";
    };
    const std::map<std::string, std::int64_t> expected_skips{
        {"every covering source is too coarse for its tag", 1}, {"outside every source's coverage", 1},
        {"too small for every source", 1}, {"too large for every source", 1}, {"its tile leaves every source's coverage", 1}};

    const auto finest = plan("finest");
    CHECK(skipped(finest) == expected_skips);
    CHECK(sql_int(finest, "SELECT count(*) FROM jobs") == 25);
    CHECK(sql_int(finest, "SELECT count(*) FROM jobs WHERE source = 'FINE'") == 25);
    const auto finest_fine_first = plan("finest", "fine-first");
    CHECK(skipped(finest_fine_first) == expected_skips);
    CHECK(sql_int(finest_fine_first, "SELECT count(*) FROM jobs") == 25);
    CHECK(sql_int(finest_fine_first, "SELECT count(*) FROM jobs WHERE source = 'FINE'") == 25);
    CHECK(sql_column(finest, "SELECT id_part FROM jobs WHERE osm_id = " + std::to_string(building)) ==
          std::vector<std::string>{"a" + std::to_string(building)});
    // The building's tile: its 100 m bbox plus 10% at 0.5 m, within a pixel or two.
    const auto side = sql_int(finest, "SELECT width FROM jobs WHERE osm_id = " + std::to_string(building));
    CHECK(side >= 218);
    CHECK(side <= 226);
    CHECK(sql_int(finest, "SELECT width FROM jobs WHERE osm_id = " + std::to_string(trees[0])) == 384);

    const auto all = plan("all");
    CHECK(skipped(all) == expected_skips);
    CHECK(sql_int(all, "SELECT count(*) FROM jobs") == 50);
    CHECK(sql_column(all, "SELECT source FROM jobs WHERE osm_id = " + std::to_string(building) + " ORDER BY source") ==
          std::vector<std::string>{"COARSE", "FINE"});

    // The stages read jobs a batch at a time, in job order, all sources or one: a range of an
    // index, no sort of every job of the status a batch (the old index, status then source,
    // made each batch's query sort them all).
    {
        skyscript::pipeline::StateDb state(all, false);
        for (const std::string source : {"", "FINE", "COARSE"}) {
            INFO("source '" << source << "'");
            std::vector<std::int64_t> ids;
            for (std::int64_t after = -1;;) {
                const auto batch = state.jobs(skyscript::pipeline::JobStatus::planned, source, after, 7);
                if (batch.empty()) break;
                for (const auto& job : batch) {
                    ids.push_back(job.job_id);
                    if (!source.empty()) CHECK(job.source == source);
                }
                after = batch.back().job_id;
            }
            CHECK(std::is_sorted(ids.begin(), ids.end()));
            CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
            CHECK(ids.size() == (source.empty() ? 50u : 25u));
        }
        // The write stage's lookup of a file by stem uses the stem index, whatever SQLite
        // would guess (without statistics it took the status index once: a scan a file).
        // An older state DB gets the status index last, when opened: SQLite then preferred it.
        const auto migrated = dir + "/migrated.sqlite";
        fs::copy_file(all, migrated, fs::copy_options::overwrite_existing);
        REQUIRE(run("sqlite3 " + sh_quote(migrated) + " 'DROP INDEX jobs_status_id; CREATE INDEX jobs_status_id ON jobs (status, job_id, source)'").exit_code == 0);
        for (const auto& db : {all, migrated}) {
            const auto lookup = query_plan_steps(db, skyscript::pipeline::StateDb::names_written_sql());
            REQUIRE(lookup.size() == 1);
            CHECK_MESSAGE(lookup[0].find("USING INDEX jobs_stem (stem=?)") != std::string::npos, db);
        }
        for (const bool of_source : {false, true}) {
            const auto query_plan = query_plan_steps(all, skyscript::pipeline::StateDb::jobs_sql(of_source));
            INFO(skyscript::pipeline::StateDb::jobs_sql(of_source));
            REQUIRE(!query_plan.empty());
            for (const auto& step : query_plan) CHECK(step.find("TEMP B-TREE") == std::string::npos);
        }
    }

    const auto random = plan("random");
    CHECK(skipped(random) == expected_skips);
    CHECK(sql_int(random, "SELECT count(*) FROM jobs") == 25);
    const auto fine = sql_int(random, "SELECT count(*) FROM jobs WHERE source = 'FINE'");
    CHECK(fine > 0);  // 25 objects, two sources: both drawn (all one way has odds 2^-24)
    CHECK(fine < 25);
    // Seeded: the same choice again, and the tile of an object does not depend on the policy.
    const auto again = plan("random");
    CHECK(sql_column(again, "SELECT source FROM jobs ORDER BY job_id") == sql_column(random, "SELECT source FROM jobs ORDER BY job_id"));
    CHECK(sql_column(finest, "SELECT x0 || ' ' || y0 FROM jobs WHERE osm_id = " + std::to_string(trees[3])) ==
          sql_column(all, "SELECT x0 || ' ' || y0 FROM jobs WHERE source = 'FINE' AND osm_id = " + std::to_string(trees[3])));
}

TEST_CASE("a way and a relation with the same id: the relation's stem is a{id}r, both are written") {
    // Liechtenstein's w52 (natural=water) and r52 (a castle's multipolygon) are both areas.
    const auto dir = fresh_dir("plan-stem-clash");
    const std::string box = "9.515,47.08,9.53,47.145";
    const auto pbf = data("osm/liechtenstein-2013-08-03.osm.pbf");
    REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(pbf) + " -o " + sh_quote(dir + "/render-src") + " --bbox " + box).exit_code == 0);
    const auto render = run(sh_quote(source_dir() + "/tests/render_osm_raster.sh") + " " + sh_quote(dir + "/render-src/catalog.gpkg") + " " +
                            sh_quote(dir + "/li.tif") + " " + box + " 1");
    REQUIRE_MESSAGE(render.exit_code == 0, render.err);
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"LI\"\nkind = \"gdal\"\npath = \"" + dir + "/li.tif\"\nyear = 2013\n");
    const auto out = dir + "/out";
    const auto r = run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(pbf) + " -o " + sh_quote(out) + " --bbox " + box +
                       " --sources " + sh_quote(dir + "/sources.toml") + " --min-px 50 -q");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto db = out + "/state.sqlite";
    CHECK(sql_column(db, "SELECT osm_type || ' ' || stem FROM jobs WHERE osm_id = 52 AND status = 'written' ORDER BY osm_type") ==
          std::vector<std::string>{"r a52r_LI_13", "w a52_LI_13"});
    CHECK(sql_int(db, "SELECT count(DISTINCT stem) FROM jobs WHERE status = 'written'") ==
          sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'"));
    const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_dataset.py") + " " + sh_quote(out));
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
}

TEST_CASE("sampling a large input: N random cells, rare tags from anywhere, a per-tag cap, the same jobs for the same seed") {
    const auto dir = fresh_dir("plan-sampling");
    const auto pbf = data("osm/liechtenstein-2013-08-03.osm.pbf");
    // Planning asks no server: an xyz source anywhere at 0.5 m is enough to plan with.
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"ANY\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    const std::string sampling = " --sources " + sh_quote(dir + "/sources.toml") + " --all-below 100 --cells 20 --rare-min 3 --max-per-tag 40";
    auto plan = [&](const std::string& name, const std::string& extra) {
        const auto out = dir + "/" + name;
        REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(pbf) + " -o " + sh_quote(out)).exit_code == 0);
        const auto r = run("timeout 120 " + sh_quote(binary()) + " plan " + sh_quote(out) + sampling + extra);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return std::pair{out, r.out};
    };
    const auto [a, a_out] = plan("a", "");
    // "sampling: 20 of C non-empty cells, R objects of rare tags added"
    const auto at = a_out.find("sampling: 20 of ");
    REQUIRE(at != std::string::npos);
    long cells = 0, rare = 0;
    REQUIRE(std::sscanf(a_out.c_str() + at, "sampling: 20 of %ld non-empty cells, %ld objects", &cells, &rare) == 2);
    CHECK(cells > 100);
    const auto db = a + "/state.sqlite";
    // sqlite3's own shell, for a query across the state DB and the catalog.
    auto sqlite = [](const std::string& db_path, const std::string& sql) {
        const auto r = run("sqlite3 " + sh_quote(db_path) + " " + sh_quote(sql));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return std::stoll(r.out);
    };
    // Jobs lie in the 20 drawn cells, or are rare-tag objects (each in at most one more cell).
    const auto job_cells = sqlite(db, "ATTACH '" + a + "/catalog.gpkg' AS c; SELECT count(DISTINCT CAST((o.rep_lon + 180) * 100 AS INTEGER) * 100000 + "
                                      "CAST((o.rep_lat + 90) * 100 AS INTEGER)) FROM jobs j JOIN c.objects o ON o.fid = j.fid");
    CHECK(job_cells <= 20 + rare);
    CHECK(job_cells >= 10);
    CHECK(sql_int(db, "SELECT max(n) FROM (SELECT count(*) AS n FROM jobs GROUP BY focus_tag)") <= 40);
    // Seeded: the same jobs again, byte for byte; another seed draws other cells.
    const auto [b, b_out] = plan("b", "");
    const std::string jobs_sql = "SELECT job_id || ' ' || osm_type || osm_id || ' ' || x0 || ' ' || y0 || ' ' || title_multi_objects FROM jobs ORDER BY job_id";
    CHECK(sql_column(db, jobs_sql) == sql_column(b + "/state.sqlite", jobs_sql));
    const auto [c, c_out] = plan("c", " --seed 2");
    CHECK(sql_column(db, jobs_sql) != sql_column(c + "/state.sqlite", jobs_sql));
    // --limit: a reproducible subset of the same sample.
    const auto [d, d_out] = plan("d", " --limit 25");
    CHECK(sql_int(d + "/state.sqlite", "SELECT count(*) FROM jobs") + sql_int(d + "/state.sqlite", "SELECT coalesce(sum(objects), 0) FROM skipped") == 25);
    CHECK(sqlite(d + "/state.sqlite", "ATTACH '" + db + "' AS a; SELECT count(*) FROM jobs j WHERE NOT EXISTS "
                                      "(SELECT 1 FROM a.jobs k WHERE k.osm_type = j.osm_type AND k.osm_id = j.osm_id)") == 0);
}

TEST_CASE("--threads: the plan's jobs are the same, column for column, with 1, 2 and 4 threads") {
    const auto dir = fresh_dir("plan-threads");
    const auto pbf = data("osm/liechtenstein-2013-08-03.osm.pbf");
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"ANY\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(pbf) + " -o " + sh_quote(dir + "/built")).exit_code == 0);
    for (const int threads : {1, 2, 4}) {
        const auto out = dir + "/t" + std::to_string(threads);
        fs::copy(dir + "/built", out, fs::copy_options::recursive);
        const auto r = run("timeout 300 " + sh_quote(binary()) + " plan -q " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml") +
                           " --threads " + std::to_string(threads));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    }
    // Many batches of jobs (a batch is 256), with surroundings and pixels to differ in.
    const auto one = dir + "/t1/state.sqlite";
    CHECK(sql_int(one, "SELECT count(*) FROM jobs") > 3000);
    CHECK(sql_int(one, "SELECT count(*) FROM jobs WHERE surrounding_tags <> '[]'") > 1000);
    for (const int threads : {2, 4}) {
        const auto other = dir + "/t" + std::to_string(threads) + "/state.sqlite";
        CAPTURE(threads);
        CHECK(sql_int(other, "SELECT count(*) FROM jobs") == sql_int(one, "SELECT count(*) FROM jobs"));
        CHECK(rows_differing(one, other, "jobs") == 0);
        CHECK(rows_differing(one, other, "skipped") == 0);
    }
}

namespace {

// The write and read format versions of a SQLite file's header (bytes 18 and 19): 2 in WAL mode, 1 with a rollback journal.
std::pair<int, int> journal_format(const std::string& db) {
    const auto header = read_file(db).substr(0, 20);
    return {static_cast<unsigned char>(header.at(18)), static_cast<unsigned char>(header.at(19))};
}

} // namespace

TEST_CASE("the plan writes its jobs under a rollback journal: status says the DB is held, report says why, a killed plan is rolled back by "
          "the rerun, and the WAL is back after") {
    const auto dir = fresh_dir("plan-journal");
    // Five sources and --source-policy all: ~13 K jobs, ~35 MB, more than the plan's 16 MB page
    // cache, so it writes pages into the file (and holds it) long before it commits.
    std::string toml;
    for (const auto& [alias, gsd] : std::vector<std::pair<std::string, std::string>>{{"A", "0.5"}, {"B", "0.6"}, {"C", "1.0"}, {"D", "0.3"}, {"E", "2.0"}})
        toml += "[[source]]\nalias = \"" + alias + "\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/" + alias + "/{z}/{x}/{y}.png\"\ngsd = " + gsd +
                "\nyear = 2020\nlicence = \"CC0-1.0\"\n";
    write_file(dir + "/sources.toml", toml);
    REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(dir + "/built")).exit_code == 0);
    const auto plan_argv = [&](const std::string& out) {
        return std::vector<std::string>{binary(), "plan", out, "--sources", dir + "/sources.toml", "--source-policy", "all", "--threads", "1", "-q"};
    };
    const auto plan_command = [&](const std::string& out) {
        std::string c = "timeout 300";
        for (const auto& a : plan_argv(out)) c.append(" ").append(sh_quote(a)); // not `" " + string`: GCC 12's false -Wrestrict
        return c;
    };

    // Uninterrupted: no journal left, the DB in WAL mode again.
    const auto ref = dir + "/ref";
    fs::copy(dir + "/built", ref, fs::copy_options::recursive);
    const auto planned = run(plan_command(ref));
    REQUIRE_MESSAGE(planned.exit_code == 0, planned.err);
    CHECK(sql_int(ref + "/state.sqlite", "SELECT count(*) FROM jobs") > 10000);
    CHECK(!fs::exists(ref + "/state.sqlite-journal"));
    CHECK(journal_format(ref + "/state.sqlite") == std::pair{2, 2});

    // Stopped while it holds the DB: its rollback journal is there and the file has grown past
    // the pages it had (through a WAL, the file would not grow before the commit).
    const auto out = dir + "/stopped";
    const auto db = out + "/state.sqlite";
    pid_t pid = 0;
    for (int attempt = 0; attempt < 5 && !pid; ++attempt) { // a plan that ends before it is seen holding the DB is run again
        fs::remove_all(out);
        fs::copy(dir + "/built", out, fs::copy_options::recursive);
        const pid_t p = start_process(plan_argv(out));
        int st = 0;
        bool ended = false;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (!ended && std::chrono::steady_clock::now() < until) {
            std::error_code ec;
            if (fs::exists(db + "-journal", ec) && fs::file_size(db, ec) > 8u << 20 && !ec) break;
            ended = ::waitpid(p, &st, WNOHANG) == p;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (ended) continue;
        REQUIRE(::kill(p, SIGSTOP) == 0);
        pid = p;
    }
    REQUIRE_MESSAGE(pid, "the plan was never seen holding its state DB");
    const auto started = std::chrono::steady_clock::now();
    const auto status = run(sh_quote(binary()) + " status " + sh_quote(out));
    CHECK_MESSAGE(status.exit_code == 0, status.err);
    CHECK(status.out.find("plan stage running: it is writing its jobs") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(8)); // a second's wait, not a failure after ten
    const auto status_json = run(sh_quote(binary()) + " status --json " + sh_quote(out));
    CHECK_MESSAGE(status_json.exit_code == 0, status_json.err);
    CHECK(status_json.out.find("\"state_db\": \"plan writing\"") != std::string::npos);
    CHECK(status_json.out.find("\"jobs\": null") != std::string::npos);
    const auto report = run(sh_quote(binary()) + " report -q " + sh_quote(out));
    CHECK(report.exit_code == 1);
    CHECK(lines(report.err).size() == 1);
    CHECK(report.err.find("a plan is writing its jobs") != std::string::npos);

    // Killed there: the journal is hot; readers say what happened, and the rerun rolls it back and plans anew.
    REQUIRE(::kill(pid, SIGKILL) == 0);
    CHECK(wait_process(pid) == -SIGKILL);
    REQUIRE(fs::exists(db + "-journal"));
    const auto after = run(sh_quote(binary()) + " status " + sh_quote(out));
    CHECK_MESSAGE(after.exit_code == 0, after.err);
    CHECK(after.out.find("a run stopped in the middle of its plan") != std::string::npos);
    const auto report_after = run(sh_quote(binary()) + " report -q " + sh_quote(out));
    CHECK(report_after.exit_code == 1);
    CHECK(lines(report_after.err).size() == 1);
    CHECK(report_after.err.find("rollback journal must be applied first") != std::string::npos);
    const auto rerun = run(plan_command(out));
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
    CHECK(!fs::exists(db + "-journal"));
    CHECK(journal_format(db) == std::pair{2, 2});
    CHECK(sql_int(db, "SELECT count(*) FROM jobs") == sql_int(ref + "/state.sqlite", "SELECT count(*) FROM jobs"));
    CHECK(rows_differing(db, ref + "/state.sqlite", "jobs") == 0);
    CHECK(rows_differing(db, ref + "/state.sqlite", "skipped") == 0);
    CHECK(run(sh_quote(binary()) + " status " + sh_quote(out)).out.find("jobs: " + std::to_string(sql_int(db, "SELECT count(*) FROM jobs")) + " total") !=
          std::string::npos);
}

TEST_CASE("a reader holding the state DB when the plan starts: the plan keeps the WAL and ends as usual") {
    const auto dir = fresh_dir("plan-journal-reader");
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"ANY\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    const auto out = dir + "/out";
    REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(out)).exit_code == 0);
    const auto plan = sh_quote(binary()) + " plan -q " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml") + " --threads 1";
    REQUIRE(run("timeout 300 " + plan).exit_code == 0);
    const auto db = out + "/state.sqlite";
    const auto jobs = sql_int(db, "SELECT count(*) FROM jobs");
    CHECK(jobs > 3000);
    // Plan again (the plan stage forgotten) while python's sqlite3 holds a read transaction open.
    REQUIRE(run("sqlite3 " + sh_quote(db) + " \"DELETE FROM stages WHERE stage = 'plan'\"").exit_code == 0);
    REQUIRE(sql_int(db, "SELECT count(*) FROM stages WHERE stage = 'plan'") == 0);
    // A title the reader's snapshot holds and the new plan does not.
    REQUIRE(run("sqlite3 " + sh_quote(db) + " \"UPDATE jobs SET title = 'before the plan' WHERE job_id = (SELECT min(job_id) FROM jobs)\"").exit_code == 0);
    const auto script = "import sqlite3, subprocess, sys\n"
                        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                        "n = \"SELECT count(*) FROM jobs WHERE title = 'before the plan'\"\n"
                        "c.execute('BEGIN'); before = c.execute(n).fetchone()[0]\n"
                        "r = subprocess.run(sys.argv[2], shell=True)\n"
                        "print(before, c.execute(n).fetchone()[0], r.returncode)\n"
                        "c.execute('COMMIT')\n";
    write_file(dir + "/hold.py", script);
    const auto r = run("timeout 300 /usr/bin/python3 " + sh_quote(dir + "/hold.py") + " " + sh_quote(db) + " " + sh_quote("timeout 300 " + plan));
    INFO(r.err);
    // The reader saw the same snapshot before and after (WAL), and the plan finished.
    CHECK(r.out == "1 1 0\n");
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE title = 'before the plan'") == 0);
    CHECK(journal_format(db) == std::pair{2, 2});
    CHECK(sql_int(db, "SELECT count(*) FROM jobs") == jobs);
    CHECK(sql_int(db, "SELECT count(*) FROM stages WHERE stage = 'plan'") == 1);
}
