// Sampling in the read (issue 14, part 2): the extract draws the plan's cells and rare tags
// as it reads and keeps only what their tiles need. Checked: the bound on where a tile can
// lie holds for tiles the planner really places; the jobs planned from a sampled catalog
// equal, column for column, those planned from the full catalog with the same options, on
// a tiled real input; the sampled catalog's size follows the sample, not the input; a plan
// with other sampling values is refused. Issue 25: the second read makes only the sample's
// rows (no node location stored again, no node blob of a PBF read), each the full catalog's
// row with its fid, and refuses a file that changed between the reads.

#include "osm/extractor.hpp"
#include "osm/row_spill.hpp"
#include "pipeline/common/seeded_hash.hpp"
#include "pipeline_fixture.hpp"
#include "test_support.hpp"
#include "pipeline/tiles/tile_placement.hpp"
#include "pipeline/tiles/tile_reach.hpp"
#include "pipeline/plan/catalog_index.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_list.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "tag_filters/visible_tags.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <set>

using namespace skyscript::test;
using namespace skyscript::pipeline;
namespace fs = std::filesystem;

TEST_CASE("tile_reach holds every tile place_tile makes, at every GSD the focus tag allows, polar grids included") {
    std::mt19937_64 rng(14);
    std::uniform_real_distribution<double> lon(-179.9, 179.9), lat(-89.5, 89.5), unit(0, 1);
    const double classes[] = {0.1, 0.2, 0.6, 1, 10};
    const double gsds[] = {0.1, 0.2, 0.6, 1, 10, 30, 60}; // the sources': top-class tags show at 30 and 60 m too
    int tiles = 0, areas = 0, coarse = 0;
    for (int i = 0; i < 8000; ++i) {
        PlacementOptions o;
        o.seed = rng();
        o.offset = unit(rng) * 0.5;
        o.margin = unit(rng) * 0.5;
        o.point_tile_px = 100 + static_cast<int>(unit(rng) * 900);
        skyscript::osm::CatalogRow head;
        head.osm_type = "nwr"[i % 3];
        head.osm_id = static_cast<std::int64_t>(rng() >> 8);
        head.kind = "nwa"[i % 3];
        head.max_gsd = classes[i % 5];
        const double coarsest_source = gsds[4 + i % 3]; // the build's sources go down to 10, 30 or 60 m
        // A quarter near and in the polar grids (83..89.5 N, 79..89.5 S), where the tiles turn.
        const double x = lon(rng);
        const double y = i % 4 ? lat(rng) : i % 8 ? -89.5 + unit(rng) * 10.5 : 83 + unit(rng) * 6.5;
        // Areas of 1 m to 20 km, lines of a few vertices over up to 5 km.
        const double size_deg = std::pow(10.0, -5 + unit(rng) * 4.3);
        std::vector<skyscript::osm::Point> vertices;
        if (head.kind == 'n') {
            head.bbox = {x, y, x, y};
        } else if (head.kind == 'w') {
            for (int k = 0; k < 2 + i % 7; ++k) vertices.push_back({x + unit(rng) * size_deg / 4, y + unit(rng) * size_deg / 4});
            head.bbox = {x, y, x, y};
            for (const auto& v : vertices)
                head.bbox = {std::min(head.bbox.min_lon, v.lon), std::min(head.bbox.min_lat, v.lat), std::max(head.bbox.max_lon, v.lon),
                             std::max(head.bbox.max_lat, v.lat)};
        } else {
            head.bbox = {x, y, x + size_deg * (0.2 + unit(rng)), y + size_deg * (0.2 + unit(rng))};
        }
        head.rep_lon = (head.bbox.min_lon + head.bbox.max_lon) / 2;
        head.rep_lat = (head.bbox.min_lat + head.bbox.max_lat) / 2;
        const auto reach = tile_reach(head, vertices, o, coarsest_source);
        skyscript::pipeline::IndexedObject object;
        object.osm_type = head.osm_type;
        object.osm_id = head.osm_id;
        object.kind = head.kind;
        object.rep_lon = head.rep_lon;
        object.rep_lat = head.rep_lat;
        object.bbox = head.bbox;
        const auto focus = measure_focus(object, vertices, o.seed);
        for (const double gsd : gsds) {
            if (gsd > coarsest_source) break;
            if (!skyscript::tags::shown_at_gsd(head.max_gsd, gsd)) continue;
            const long px = tile_side_px(focus, gsd, o);
            if (px < 1 || px > o.max_px) { // no tile for this source (tile_side_px's check in choose_sources)
                if (head.kind != 'a') FAIL("a point tile is always placed");
                continue;
            }
            REQUIRE_MESSAGE(reach.has_value(), "object " << i << " gets a tile at " << gsd << " m but no reach");
            const auto grid = place_tile(focus, gsd, px, o);
            const auto& t = grid.box;
            INFO("object " << i << " kind " << head.kind << " gsd " << gsd << " px " << px);
            CHECK(reach->min_lon <= t.west);
            CHECK(reach->max_lon >= t.east);
            CHECK(reach->min_lat <= t.south);
            CHECK(reach->max_lat >= t.north);
            ++tiles;
            areas += head.kind == 'a';
            coarse += gsd > head.max_gsd;
        }
    }
    CHECK(tiles > 5000);
    CHECK(areas > 500);
    CHECK(coarse > 500);
}

namespace {

std::string tiled_liechtenstein(int copies) {
    const auto dir = fresh_dir("read_sample_input_" + std::to_string(copies));
    const auto out = dir + "/li-" + std::to_string(copies) + "x.osm.pbf";
    const auto tiler = (fs::path(binary()).parent_path() / "bench-tile-input").string();
    REQUIRE(run(sh_quote(tiler) + " " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " " + std::to_string(copies) + " " + sh_quote(out))
                .exit_code == 0);
    return out;
}

CommandResult extract(const std::string& input, const std::string& out, const std::string& args) {
    return run("timeout 300 " + sh_quote(binary()) + " extract -q " + sh_quote(input) + " -o " + sh_quote(out) + " " + args);
}

// Planning asks no server: xyz sources anywhere, at 0.5 m and at 10 m (large tiles).
std::string sources_file(const std::string& dir) {
    const auto path = dir + "/sources.toml";
    write_file(path, "[[source]]\nalias = \"FINE\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n"
                     "[[source]]\nalias = \"COARSE\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 10\nyear = 2020\n"
                     // Landsat-like: only top-class tags (10 m) show there, on the largest tiles.
                     "[[source]]\nalias = \"L30\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 30\nyear = 2020\n");
    return path;
}

CommandResult plan(const std::string& out, const std::string& sources, const std::string& args) {
    return run("timeout 300 " + sh_quote(binary()) + " plan " + sh_quote(out) + " --sources " + sh_quote(sources) + " --source-policy all " + args);
}

std::int64_t objects(const std::string& out) { return sql_int(out + "/catalog.gpkg", "SELECT count(*) FROM objects"); }

} // namespace

TEST_CASE("a catalog sampled in the read plans the jobs of the full catalog, and its size follows the sample") {
    const auto dir = fresh_dir("read_sample");
    const auto sources = sources_file(dir);
    const auto input = tiled_liechtenstein(16);
    const auto full = dir + "/full";
    REQUIRE(extract(input, full, "--read-sample off").exit_code == 0);
    CHECK(sql_int(full + "/catalog.gpkg", "SELECT count(*) FROM sqlite_master WHERE name = 'sample_focus'") == 0);
    const std::string all_columns = "SELECT * FROM jobs ORDER BY job_id";
    const char* const option_sets[] = {
        "--all-below 1000 --cells 40 --rare-min 10",                                             // rare tags from anywhere
        "--all-below 1000 --cells 25 --rare-min 0 --seed -3 --offset 0.5 --point-tile-px 800 --margin 0.4", // far-reaching tiles
    };
    for (std::size_t i = 0; i < std::size(option_sets); ++i) {
        const std::string options = option_sets[i];
        CAPTURE(options);
        const auto sampled = dir + "/sampled-" + std::to_string(i);
        fs::remove_all(full + "/state.sqlite");
        const auto e = extract(input, sampled, "--read-sample on --sources " + sh_quote(sources) + " " + options);
        REQUIRE_MESSAGE(e.exit_code == 0, e.err);
        const auto a = plan(full, sources, options);
        REQUIRE_MESSAGE(a.exit_code == 0, a.err);
        const auto b = plan(sampled, sources, options);
        REQUIRE_MESSAGE(b.exit_code == 0, b.err);
        CHECK(b.out.find("drawn in the extract's read") != std::string::npos);
        const auto jobs_full = sql_column(full + "/state.sqlite", all_columns);
        const auto jobs_sampled = sql_column(sampled + "/state.sqlite", all_columns);
        CHECK(jobs_full.size() > 300);
        CHECK(sql_int(full + "/state.sqlite", "SELECT count(*) FROM jobs WHERE surrounding_tags != '[]'") > 300);
        CHECK(sql_int(full + "/state.sqlite", "SELECT count(*) FROM jobs WHERE source = 'COARSE'") > (i == 0 ? 20 : 0));
        CHECK(sql_int(full + "/state.sqlite", "SELECT count(*) FROM jobs WHERE source = 'L30'") > 0);
        CHECK(jobs_full.size() == jobs_sampled.size());
        CHECK_MESSAGE(jobs_full == jobs_sampled, "the sampled catalog planned other jobs");
        // Smaller than the full catalog (on this small input the rare tags' objects, from
        // anywhere, reach much of it; and L30's 800 px tiles of forests and lakes are 24 km
        // wide), and its focus candidates listed for the planner.
        CHECK(objects(sampled) * (i == 0 ? 1 : 2) < objects(full));
        CHECK(sql_int(sampled + "/catalog.gpkg", "SELECT count(*) FROM sample_focus") > 0);
        CHECK(sql_int(sampled + "/catalog.gpkg", "SELECT count(*) FROM sample_focus f LEFT JOIN objects o USING (fid) WHERE o.fid IS NULL") == 0);
    }
    // GDAL reads the sampled catalog as a GeoPackage, the focus list as a layer of its own.
    const auto info = run("ogrinfo -q " + sh_quote(dir + "/sampled-0/catalog.gpkg"));
    CHECK(info.exit_code == 0);
    CHECK(info.out.find("objects") != std::string::npos);
    CHECK(info.out.find("sample_focus") != std::string::npos);

    // Other sampling values than the draw's: refused in one line, nothing planned.
    fs::remove(dir + "/sampled-0/state.sqlite");
    const auto refused = plan(dir + "/sampled-0", sources, "--all-below 1000 --cells 40 --rare-min 10 --seed 2");
    CHECK(refused.exit_code != 0);
    CHECK(lines(refused.err).size() == 1);
    CHECK(refused.err.find("sampled as it was read with --seed 1") != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/sampled-0/state.sqlite")); // made by the refused run, with nothing in it: removed

    // Sources coarser than those the draw reached for: their top-class tiles would look for
    // surroundings the catalog did not keep. Refused, naming both GSDs.
    fs::remove(dir + "/sampled-0/state.sqlite");
    const auto coarser = dir + "/coarser.toml";
    write_file(coarser, read_file(sources) + "[[source]]\nalias = \"M60\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 60\nyear = 2020\n");
    const auto too_coarse = plan(dir + "/sampled-0", coarser, "--all-below 1000 --cells 40 --rare-min 10");
    CHECK(too_coarse.exit_code != 0);
    CHECK(too_coarse.err.find("for sources down to 30 m; these sources go to 60 m") != std::string::npos);
}

TEST_CASE("the sampled catalog's size follows the sample: four times the input, about the same catalog") {
    const auto dir = fresh_dir("read_sample_bound");
    const std::string options = "--read-sample on --all-below 1000 --cells 30 --rare-min 0";
    const auto small = tiled_liechtenstein(4), large = tiled_liechtenstein(16);
    REQUIRE(extract(small, dir + "/full-4", "--read-sample off").exit_code == 0);
    REQUIRE(extract(large, dir + "/full-16", "--read-sample off").exit_code == 0);
    REQUIRE(extract(small, dir + "/sampled-4", options).exit_code == 0);
    REQUIRE(extract(large, dir + "/sampled-16", options).exit_code == 0);
    const auto f4 = objects(dir + "/full-4"), f16 = objects(dir + "/full-16");
    const auto s4 = objects(dir + "/sampled-4"), s16 = objects(dir + "/sampled-16");
    MESSAGE("full: " << f4 << " -> " << f16 << "; sampled: " << s4 << " -> " << s16);
    CHECK(f16 > 3 * f4);
    CHECK(s16 < 2 * s4);
    CHECK(s16 * 10 < f16);
    // auto: a small input is not sampled in the read (below 1 GiB).
    REQUIRE(extract(small, dir + "/auto", "--all-below 1000 --cells 30").exit_code == 0);
    CHECK(objects(dir + "/auto") == f4);
}

namespace {

// The rows a read makes, by object and fid, none kept.
struct NotingSink : skyscript::osm::RowSink {
    skyscript::osm::ObjectSelection rows;
    bool wants(const skyscript::osm::CatalogRow& head, std::span<const skyscript::osm::Point>) override {
        rows.add(head.osm_type, head.osm_id, head.fid);
        return false;
    }
    void consume(std::vector<skyscript::osm::CatalogRow>&&) override {}
};

} // namespace

TEST_CASE("sampled in the read, the catalog holds the full catalog's rows with their fids, from the first read's rows or a second read of a PBF's ways or a whole XML file; a file changed between the reads is refused") {
    const auto dir = fresh_dir("read_sample_second");
    const auto input = tiled_liechtenstein(4);
    const auto fine = dir + "/fine.toml"; // 0.5 m tiles reach little around the drawn cells
    write_file(fine, "[[source]]\nalias = \"FINE\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    const std::string options = "--read-sample on --all-below 1000 --cells 12 --rare-min 5 --sources " + sh_quote(fine);
    // Every row of the sampled catalog is the full catalog's row of that fid, column for
    // column; points, lines and areas (closed ways and relations) among them.
    auto check_rows_of_full = [&](const std::string& sampled, const std::string& full) {
        const auto full_list = table_rows(full + "/catalog.gpkg", "objects");
        const std::set<std::string> full_rows(full_list.begin(), full_list.end());
        const auto rows = table_rows(sampled + "/catalog.gpkg", "objects");
        std::size_t in_full = 0;
        for (const auto& row : rows) in_full += full_rows.count(row);
        CHECK(in_full == rows.size());
        CHECK(rows.size() < full_rows.size());
        for (const char* kind : {"osm_type = 'n'", "osm_type = 'w' AND kind = 'w'", "osm_type = 'w' AND kind = 'a'", "osm_type = 'r'"})
            CHECK_MESSAGE(sql_int(sampled + "/catalog.gpkg", std::string("SELECT count(*) FROM objects WHERE ") + kind) > 0, kind);
    };
    REQUIRE(extract(input, dir + "/full", "--read-sample off").exit_code == 0);
    const std::string meta = "SELECT key || '=' || value FROM skyscript_meta WHERE key NOT IN ('created', 'input') ORDER BY key";
    // With room in the scratch folder the first read keeps every row and the catalog is
    // written from them; with --tmp-dir on a 4 MB disk (the rows take about 8 MB) the input
    // is read a second time, building only the sample's rows: the same catalog either way.
    const auto small = dir + "/small";
    auto extract_reading_twice = [&](const std::string& in, const std::string& out, const std::string& args, const char* size = "4M") {
        return on_small_disk(small, size, "timeout 300 " + sh_quote(binary()) + " extract -q " + sh_quote(in) + " -o " + sh_quote(out) +
                                              " --tmp-dir " + sh_quote(small) + " " + args);
    };
    {
        const auto e = extract(input, dir + "/sampled-1", options + " --threads 1");
        REQUIRE_MESSAGE(e.exit_code == 0, e.err);
        const auto twice = extract_reading_twice(input, dir + "/sampled-2", options + " --threads 2");
        REQUIRE_MESSAGE(twice.exit_code == 0, twice.err);
    }
    for (const char* out : {"/sampled-1", "/sampled-2"}) {
        CAPTURE(out);
        check_rows_of_full(dir + out, dir + "/full");
        for (const char* table : {"objects", "sample_focus"})
            CHECK(table_rows(dir + out + "/catalog.gpkg", table) == table_rows(dir + "/sampled-1/catalog.gpkg", table));
        CHECK(sql_column(dir + out + "/catalog.gpkg", meta) == sql_column(dir + "/sampled-1/catalog.gpkg", meta));
    }
    // The same data as OSM XML, read twice (no blobs to skip: the second read reads it whole):
    // the rows of its own full catalog (whose fids differ: a relation's row follows the
    // buffer that completes it), and the same counts.
    const auto xml = dir + "/input.osm";
    REQUIRE(run("osmium cat " + sh_quote(input) + " -o " + sh_quote(xml)).exit_code == 0);
    REQUIRE(extract(xml, dir + "/xml-full", "--read-sample off").exit_code == 0);
    // (40 MB: the first read's notes are estimated at a byte an input byte, the rows at ten.)
    const auto e = extract_reading_twice(xml, dir + "/xml", options, "40M");
    REQUIRE_MESSAGE(e.exit_code == 0, e.err);
    check_rows_of_full(dir + "/xml", dir + "/xml-full");
    const std::string counts = "SELECT key || '=' || value FROM skyscript_meta WHERE key NOT IN ('created', 'input', 'input_bytes') ORDER BY key";
    CHECK(sql_column(dir + "/xml/catalog.gpkg", counts) == sql_column(dir + "/sampled-1/catalog.gpkg", counts));

    // A second read of another file than the first read's (as if it changed in between) is
    // refused, naming the file, rather than making a catalog of two inputs.
    namespace osm = skyscript::osm;
    const skyscript::tags::TagMatcher matcher{skyscript::tags::TagList::builtin()};
    const auto hidden = skyscript::tags::HiddenRules::builtin();
    osm::ExtractOptions first;
    first.input = data("osm/liechtenstein-2013-08-03.osm.pbf");
    first.scratch_dir = dir;
    osm::FirstRead kept;
    first.keep_for_second = &kept;
    NotingSink noted;
    osm::extract_catalog(first, matcher, hidden, noted);
    REQUIRE(noted.rows.rows.size() > 1000);
    REQUIRE(kept.points);
    noted.rows.sort();
    auto second = first;
    second.keep_for_second = nullptr;
    second.second_of = &kept;
    second.only = &noted.rows;
    NotingSink again;
    osm::ExtractOptions same = second;
    osm::extract_catalog(same, matcher, hidden, again); // the same file: every row again, with its fid
    CHECK(again.rows.rows.size() == noted.rows.rows.size());
    bool same_fids = again.rows.rows.size() == noted.rows.rows.size();
    for (std::size_t i = 0; same_fids && i < again.rows.rows.size(); ++i)
        same_fids = again.rows.rows[i].fid == noted.rows.rows[i].fid && again.rows.rows[i].osm_id == noted.rows.rows[i].osm_id;
    CHECK(same_fids);
    second.input = data("osm/monaco-latest.osm.pbf");
    try {
        osm::extract_catalog(second, matcher, hidden, again);
        FAIL("a second read of another file was taken");
    } catch (const osm::InputError& e) {
        CHECK(std::string(e.what()).find("monaco-latest.osm.pbf: changed between the two reads") != std::string::npos);
    }
}

TEST_CASE("the pre-flight disk check counts the sampled catalog, not the full one, once the first read has drawn it") {
    const auto dir = fresh_dir("read_sample_disk");
    const auto input = tiled_liechtenstein(16); // 7.5 MB: a full catalog is estimated at ~37 MB
    const auto disk = dir + "/disk";
    auto extract_on_disk = [&](const std::string& args) {
        return on_small_disk(disk, "20M", sh_quote(binary()) + " extract -q " + sh_quote(input) + " -o " + sh_quote(disk + "/out") + " " + args +
                                              "; rc=$?; ls " + sh_quote(disk + "/out") + " 2>/dev/null; exit $rc"); // a refused run leaves no OUT
    };
    // A full catalog does not fit: stopped before reading.
    const auto full = extract_on_disk("--read-sample off");
    CHECK(full.exit_code == 1);
    CHECK(full.err.find("the catalog needs about") != std::string::npos);
    // A sample of 25 cells does: the run completes on the same disk.
    const auto small = extract_on_disk("--read-sample on --all-below 1000 --cells 25 --rare-min 0");
    CHECK_MESSAGE(small.exit_code == 0, small.err);
    CHECK(small.out.find("catalog.gpkg") != std::string::npos);
    // One of 1,000 cells (most of the input) does not: stopped after the first read, one
    // line, no catalog or partial file left.
    const auto large = extract_on_disk("--read-sample on --all-below 1000 --cells 1000 --rare-min 0");
    CHECK(large.exit_code == 1);
    CHECK(lines(large.err).size() == 1);
    CHECK(large.err.find("the catalog needs about") != std::string::npos);
    CHECK(large.out.find("catalog.gpkg") == std::string::npos);
    // A scratch folder too small even for the first read's notes of every row (about a byte a
    // PBF byte when the rows themselves do not fit): stopped before reading, in one line.
    const auto notes = on_small_disk(disk, "2M", sh_quote(binary()) + " extract -q " + sh_quote(input) + " -o " + sh_quote(dir + "/notes") +
                                                     " --tmp-dir " + sh_quote(disk) + " --read-sample on --all-below 1000 --cells 25 --rare-min 0");
    CHECK(notes.exit_code == 1);
    CHECK(lines(notes.err).size() == 1);
    CHECK(notes.err.find("sampling in the read notes every row there") != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/notes/catalog.gpkg"));
}

TEST_CASE("a sample that draws nothing, and a negative --cells, are refused in one line") {
    const auto dir = fresh_dir("read_sample_nothing");
    const auto input = tiled_liechtenstein(4);
    const auto none = extract(input, dir + "/none", "--read-sample on --all-below 1000 --cells 0 --rare-min 0");
    CHECK(none.exit_code == 1);
    CHECK(lines(none.err).size() == 1);
    CHECK(none.err.find("the sample drew none of its") != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/none/catalog.gpkg"));
    const auto negative = extract(input, dir + "/negative", "--read-sample on --all-below 1000 --cells -1");
    CHECK(negative.exit_code == 2);
    CHECK(negative.err.find("--cells must be >= 0") != std::string::npos);
}

TEST_CASE("an extract sampled in the read, SIGKILLed anywhere, leaves no scratch file and no partial catalog a rerun trusts") {
    const auto dir = fresh_dir("read_sample_kills");
    const auto input = tiled_liechtenstein(16);
    const auto scratch = dir + "/tmp";
    fs::create_directories(scratch);
    const std::string options = "--read-sample on --all-below 1000 --cells 30 --rare-min 5";
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(extract(input, dir + "/reference", options).exit_code == 0);
    const auto whole_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    const auto reference = table_rows(dir + "/reference/catalog.gpkg", "objects");
    // Killed at points across both reads: fractions of the reference run's time (about a second
    // here), so that a faster machine is killed mid-run too.
    const auto out = dir + "/out";
    int killed = 0;
    for (const double at : {0.1, 0.3, 0.5, 0.7, 0.9}) {
        const int ms = std::max(10, static_cast<int>(at * static_cast<double>(whole_ms)));
        CAPTURE(ms);
        const int code = run_and_kill({binary(), "extract", "-q", input, "-o", out, "--tmp-dir", scratch, "--read-sample", "on", "--all-below", "1000",
                                       "--cells", "30", "--rare-min", "5"},
                                      std::chrono::milliseconds(ms));
        killed += code == -SIGKILL;
        // Nothing in the scratch folder (the rows and marks are nameless files), and no catalog
        // but a whole one.
        CHECK(file_list(scratch).empty());
        if (fs::exists(out + "/catalog.gpkg")) CHECK(table_rows(out + "/catalog.gpkg", "objects") == reference);
        fs::remove_all(out);
    }
    CHECK(killed >= 2);
    // A run killed midway, then run again: the reference catalog.
    run_and_kill({binary(), "extract", "-q", input, "-o", out, "--tmp-dir", scratch, "--read-sample", "on", "--all-below", "1000", "--cells", "30",
                  "--rare-min", "5"},
                 std::chrono::milliseconds(std::max<long long>(10, whole_ms * 4 / 10)));
    const auto again = extract(input, out, options + " --tmp-dir " + sh_quote(scratch));
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(table_rows(out + "/catalog.gpkg", "objects") == reference);
    CHECK(file_list(scratch).empty());
}

TEST_CASE("rows spilled and read back: a head test drops rows without their strings, the rest come whole, and a released chunk gives its disk blocks back") {
    const auto dir = fresh_dir("row-spill");
    skyscript::osm::RowSpill spill(dir);
    std::vector<skyscript::osm::CatalogRow> made;
    std::mt19937 rng(7);
    for (int i = 0; i < 40000; ++i) { // about 20 MB: several 4 MB chunks
        skyscript::osm::CatalogRow r;
        r.fid = i + 1;
        r.osm_id = 1000 + i;
        r.osm_type = "nwr"[i % 3];
        r.kind = "nwa"[i % 3];
        r.rep_lon = i * 1e-4;
        r.bbox = {r.rep_lon, -1, r.rep_lon + 1, 1};
        r.tags_json = "{\"building\":\"" + std::string(static_cast<std::size_t>(rng() % 300), 'x') + "\"}";
        r.focus_tag = "building=yes";
        r.wkb = std::string(static_cast<std::size_t>(rng() % 400), static_cast<char>(i));
        std::string serialized;
        skyscript::osm::RowSpill::serialize(r, serialized);
        spill.add_serialized(serialized, r.fid);
        made.push_back(std::move(r));
    }
    spill.seal();
    REQUIRE(spill.chunks() >= 4);
    const auto blocks = [&] { return spill.disk_bytes(); };
    const auto before = blocks();
    std::size_t next = 0;
    for (std::size_t k = 0; k < spill.chunks(); ++k) {
        std::uint64_t seen = 0;
        spill.read_chunk(k, [&](const skyscript::osm::CatalogRow& head) {
            ++seen;
            CHECK(head.tags_json.empty()); // the head alone
            CHECK(head.wkb.empty());
            return head.osm_id % 2 == 0;
        }, [&](skyscript::osm::CatalogRow&& row) {
            while (next < made.size() && made[next].osm_id % 2 != 0) ++next;
            REQUIRE(next < made.size());
            const auto& want = made[next++];
            CHECK(row.fid == want.fid);
            CHECK(row.osm_id == want.osm_id);
            CHECK(row.osm_type == want.osm_type);
            CHECK(row.kind == want.kind);
            CHECK(row.bbox.max_lon == want.bbox.max_lon);
            CHECK(row.tags_json == want.tags_json);
            CHECK(row.focus_tag == want.focus_tag);
            CHECK(row.wkb == want.wkb);
        });
        CHECK(seen == spill.chunk_rows(k));
        spill.release_chunk(k);
        if (k == 0) CHECK(blocks() < before);
    }
    while (next < made.size() && made[next].osm_id % 2 != 0) ++next;
    CHECK(next == made.size());
    CHECK(blocks() < before / 4);
}

TEST_CASE("a plan refused for a sampling value other than the read's leaves OUT's options as they were: the plan without it goes on (red-team round 31)") {
    const auto dir = fresh_dir("read_sample_refused_options");
    const auto sources = sources_file(dir);
    const auto out = dir + "/out";
    const std::string sampling = "--all-below 100 --cells 20";
    REQUIRE(extract(data("osm/monaco-latest.osm.pbf"), out, "--read-sample on " + sampling + " --sources " + sh_quote(sources)).exit_code == 0);
    REQUIRE_FALSE(fs::exists(out + "/state.sqlite")); // the extract alone records no options
    const auto refused = plan(out, sources, sampling + " -q --seed 2");
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("sampled as it was read with --seed 1") != std::string::npos);
    CHECK_FALSE(fs::exists(out + "/state.sqlite")); // before: made, with seed 2, and the plan without --seed refused for it
    const auto again = plan(out, sources, sampling + " -q");
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs") > 0);
}
