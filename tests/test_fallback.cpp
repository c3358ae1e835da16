// Coverage is a hint, availability is the truth (issue 20, point 1): a job holds every
// eligible source in the policy's order, and a source with no imagery for its tile passes
// it on to the next, re-placed and re-captioned for that source. On Monaco's rendering:
// HALF declares the whole box but has pixels in its west half only; FULL, at 2 m, has them
// everywhere. Checked: east-half objects visible at 2 m are served by FULL, their stems
// name FULL, and they are the very jobs a plan on FULL alone makes; those FULL cannot show
// fail with HALF's reason; the dataset is the same whatever the batch and worker counts and
// after a kill in the middle of the fetch; the state DB and the report say who passed what on.

#include "imagery/source_config.hpp"
#include "pipeline_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

struct HalfAndFull {
    std::string dir, sources, full_only;
};

const HalfAndFull& half_and_full() {
    static const HalfAndFull h = [] {
        HalfAndFull x;
        x.dir = fresh_dir("fallback-sources");
        const auto& m = monaco();
        const auto half = x.dir + "/half.tif", full = x.dir + "/full.tif";
        // West of 7.4225 only: the east half of the declared coverage has no pixels.
        REQUIRE(run("gdal_translate -q -projwin_srs EPSG:4326 -projwin 7.405 43.753 7.4225 43.723 " + sh_quote(m.raster) + " " + sh_quote(half))
                    .exit_code == 0);
        REQUIRE(run("gdalwarp -q -tr 2 2 -r average " + sh_quote(m.raster) + " " + sh_quote(full)).exit_code == 0);
        const std::string full_toml = "[[source]]\nalias = \"FULL\"\nkind = \"gdal\"\npath = \"" + full + "\"\nyear = 2020\n";
        x.sources = x.dir + "/sources.toml";
        write_file(x.sources, "[[source]]\nalias = \"HALF\"\nkind = \"gdal\"\npath = \"" + half + "\"\nyear = 2021\ngsd = 0.5\n"
                              "coverage = [7.405, 43.723, 7.44, 43.753]\n\n" + full_toml);
        x.full_only = x.dir + "/full-only.toml";
        write_file(x.full_only, full_toml);
        return x;
    }();
    return h;
}

// A band across HALF's east edge (7.4225): jobs on both sides, a third of the whole box's images.
const std::string edge_box = "7.418,43.728,7.432,43.75";

CommandResult build_with(const std::string& out, const std::string& sources, const std::string& extra = "", const std::string& box = monaco_box) {
    return run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
               sh_quote(sources) + " --bbox " + box + " " + extra);
}

std::int64_t jobs_where(const std::string& out, const std::string& where) {
    return sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE " + where);
}

} // namespace

TEST_CASE("an xyz source whose server has no tile over a place (404 for each) passes the job on, as a raster without pixels there does") {
    const auto& s = half_and_full();
    const auto dir = fresh_dir("fallback-xyz-404");
    fs::create_directories(dir + "/no-tiles");
    ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", dir + "/no-tiles"});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"NONE\"\nkind = \"xyz\"\nurl = \"" + server.url("/xyz/{z}/{x}/{y}.png") +
                                          "\"\ngsd = 0.6\nmax_zoom = 18\nyear = 2022\n\n" + read_file(s.full_only));
    const auto out = dir + "/out";
    const auto r = build_with(out, dir + "/sources.toml", "--limit 150 --attempts 1");
    INFO(r.err);
    // Before: every job failed with "no tile of source NONE covers this place (HTTP 404)"; FULL never asked.
    CHECK(jobs_where(out, "status = 'written' AND source = 'FULL' AND json_extract(tried, '$[0][0]') = 'NONE' AND "
                          "json_extract(tried, '$[0][1]') = 'no tile of source NONE covers this place (HTTP 404)'") > 0);
    CHECK(jobs_where(out, "status = 'written' AND source = 'NONE'") == 0);
    for (const auto& reason : sql_column(out + "/state.sqlite", "SELECT reason FROM jobs WHERE status = 'failed'"))
        CHECK(reason.starts_with("no eligible source has imagery here (NONE: no tile of source NONE covers this place (HTTP 404)"));
}

TEST_CASE("a source without imagery passes the job on: served by the next, named after it, the job a plan on it makes") {
    const auto& s = half_and_full();
    const auto dir = fresh_dir("fallback");
    const auto out = dir + "/out";
    const auto r = build_with(out, s.sources, "", edge_box);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto db = out + "/state.sqlite";

    // Planned on HALF (finest) with FULL behind it; east-half ones passed on to FULL and served there.
    const auto passed_on = jobs_where(out, "status = 'written' AND source = 'FULL' AND json_extract(tried, '$[0][0]') = 'HALF'");
    MESSAGE("written by HALF: " << jobs_where(out, "status = 'written' AND source = 'HALF'") << ", passed on to FULL: " << passed_on
                                << ", failed: " << jobs_where(out, "status = 'failed'"));
    CHECK(passed_on > 10);
    CHECK(jobs_where(out, "status = 'written' AND source = 'HALF'") > 100);
    CHECK(jobs_where(out, "json_extract(tried, '$[0][1]') LIKE 'only %% of the tile has imagery (--min-valid 90.0%%)'") >= passed_on);
    CHECK(jobs_where(out, "status = 'written' AND source = 'FULL' AND stem NOT LIKE '%\\_FULL\\_20' ESCAPE '\\'") == 0);
    CHECK(jobs_where(out, "status = 'written' AND source = 'FULL' AND gsd != 2") == 0);
    for (const auto& stem : sql_column(db, "SELECT part || '/' || stem FROM jobs WHERE status = 'written' AND source = 'FULL' LIMIT 5"))
        CHECK(fs::exists(out + "/images" + stem + ".jpg"));
    // The finest first: every job of HALF names FULL as its fallback where FULL can show its tag.
    CHECK(jobs_where(out, "tried = '[]' AND source = 'HALF' AND fallbacks NOT IN ('', 'FULL')") == 0);
    CHECK(jobs_where(out, "fallbacks = 'FULL' AND status = 'written' AND source = 'HALF'") > 0); // HALF had it: FULL never asked
    CHECK(jobs_where(out, "fallbacks != '' AND status != 'written'") == 0);

    // Tags FULL cannot show (buildings at 2 m): HALF was the only eligible source; they fail
    // with its reason, saying no source had imagery.
    const auto failed = sql_column(db, "SELECT reason FROM jobs WHERE status = 'failed'");
    CHECK(failed.size() > 0);
    for (const auto& reason : failed) CHECK(reason.starts_with("no eligible source has imagery here (HALF: only "));

    // The job FULL serves is the job a plan on FULL alone makes for the object: tile, tags, captions.
    const auto alone = dir + "/full-only";
    REQUIRE(build_with(alone, s.full_only, "", edge_box).exit_code == 0);
    const std::string columns = "osm_type || osm_id || ' ' || epsg || ' ' || width || ' ' || height || ' ' || gsd || ' ' || x0 || ' ' || y0 || ' ' || "
                                "tile_key || center_tags || surrounding_tags || title || title_multi_objects || stem";
    const auto moved = sql_column(db, "SELECT " + columns + " FROM jobs WHERE source = 'FULL' AND status = 'written' AND tried != '[]' ORDER BY 1");
    std::vector<std::string> same;
    for (const auto& row : sql_column(alone + "/state.sqlite", "SELECT " + columns + " FROM jobs WHERE status = 'written' ORDER BY 1"))
        if (std::binary_search(moved.begin(), moved.end(), row)) same.push_back(row);
    CHECK(moved.size() == static_cast<std::size_t>(passed_on));
    CHECK(same.size() == moved.size());

    // The report: fallbacks by (from, to), and the jobs no source had imagery for.
    const auto report = nlohmann::json::parse(read_file(out + "/report.json"));
    REQUIRE(report["jobs"]["fallbacks"].size() == 1);
    CHECK(report["jobs"]["fallbacks"][0]["from"] == "HALF");
    CHECK(report["jobs"]["fallbacks"][0]["to"] == "FULL");
    CHECK(report["jobs"]["fallbacks"][0]["jobs"] == passed_on);
    CHECK(report["jobs"]["every_source_said_no"] == static_cast<std::int64_t>(failed.size()));
    CHECK(report["pairs"]["by_source"]["FULL"] == jobs_where(out, "status = 'written' AND source = 'FULL'"));
    CHECK(read_file(out + "/report.html").find("id=\"fallbacks-table\"") != std::string::npos);
    CHECK(r.out.find("HALF had no imagery, passed on to FULL: " + std::to_string(passed_on) + " jobs") != std::string::npos);

    // --retry-failed asks a job every source said no to of its last source again: the answer
    // replaces that source's, it is not listed twice.
    const auto retry = run("timeout 300 " + sh_quote(binary()) + " fetch " + sh_quote(out) + " --sources " + sh_quote(s.sources) + " --retry-failed -q");
    REQUIRE_MESSAGE(retry.exit_code == 0, retry.err);
    CHECK(jobs_where(out, "status = 'failed'") == static_cast<std::int64_t>(failed.size()));
    CHECK(jobs_where(out, "status = 'failed' AND json_array_length(tried) != 1") == 0);

    // Batches and workers change nothing: one tile a batch, one worker.
    const auto small = dir + "/small-batches";
    REQUIRE(build_with(small, s.sources, "--batch 3 --workers 1", edge_box).exit_code == 0);
    CHECK(dataset_files(small) == dataset_files(out));

    // Killed in the middle of the fetch, once some jobs were passed on: the rerun ends with the same dataset.
    const auto killed = dir + "/killed";
    const auto pid = start_process({binary(), data("osm/monaco-latest.osm.pbf"), "-o", killed, "--sources", s.sources, "--bbox", edge_box,
                                    "--batch", "16", "--workers", "1", "-q"});
    const auto end = kill_when(pid, [&] {
        return jobs_where(killed, "tried != '[]'") > 0 && jobs_where(killed, "status = 'planned'") > 0;
    });
    CHECK(end == -SIGKILL);
    CHECK(jobs_where(killed, "status = 'planned'") > 0);
    REQUIRE(build_with(killed, s.sources, "", edge_box).exit_code == 0);
    CHECK(dataset_files(killed) == dataset_files(out));
}

namespace {

// The built-in sources, as default_sources.toml has them, sent to the fake.
std::string builtin_sources_at(const std::string& endpoint) {
    std::string toml;
    for (const auto& line : lines(read_file(source_dir() + "/imagery/default_sources.toml"))) {
        toml += line + "\n";
        if (line == "kind = \"earthengine\"") toml += "endpoint = \"" + endpoint + "\"\nproject = \"sky-test\"\n";
    }
    return toml;
}

// Jobs served by `to` after `from` said no, and images by source, from OUT's state DB.
std::map<std::string, std::int64_t> counts(const std::string& out, const std::string& sql) {
    std::map<std::string, std::int64_t> m;
    for (const auto& row : sql_column(out + "/state.sqlite", sql)) {
        const auto bar = row.find('|');
        m[row.substr(0, bar)] = std::stoll(row.substr(bar + 1));
    }
    return m;
}

std::string show(const std::map<std::string, std::int64_t>& m) {
    std::string s;
    for (const auto& [k, n] : m) s += (s.empty() ? "" : ", ") + k + " " + std::to_string(n);
    return s;
}

} // namespace

TEST_CASE("the built-in sources where imagery really is: SkySat's sparse scenes pass on to Sentinel-2 and Landsat; CH is asked only inside its footprint") {
    const auto dir = fresh_dir("fallback-builtin");
    const auto key = make_rsa_key(dir, "key");
    const std::string email = "builder@sky-test.iam.gserviceaccount.com";
    // Where the fake's collections have images: SkySat a few scenes of Monaco only;
    // Sentinel-2 over Monaco only (so Liechtenstein's large objects go on to Landsat);
    // SWISSIMAGE over the footprint the planner uses (Switzerland and Liechtenstein).
    const auto ch = nlohmann::json::parse(read_file(source_dir() + "/imagery/footprints/ch.geojson"));
    const nlohmann::json footprints = {{"SKYSAT/GEN-A/PUBLIC/ORTHO/RGB", {{7.415, 43.73, 7.425, 43.74}}},
                                       {"SKYSAT/GEN-A/PUBLIC/ORTHO/MULTISPECTRAL", nlohmann::json::array()},
                                       {"COPERNICUS/S2_SR_HARMONIZED", {{7.3, 43.6, 7.6, 43.8}}},
                                       {"ORTHO/Switzerland/SWISSIMAGE/10cm", ch.contains("geometry") ? ch["geometry"] : ch}};
    write_file(dir + "/footprints.json", footprints.dump());
    ServerProcess fake({"python3", source_dir() + "/tests/earthengine_fake_server.py", "--public-key", key.public_pem, "--client-email", email,
                        "--flat-png", "--footprints", dir + "/footprints.json"});
    const auto credentials = write_service_account_key(dir + "/key.json", key.private_pem, email, fake.url("/token"), "sky-test");
    const auto sources = dir + "/sources.toml";
    write_file(sources, builtin_sources_at(fake.url("")));
    auto build_of = [&](const std::string& pbf, const std::string& out, const std::string& extra) {
        const auto r = run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(credentials) + " timeout 300 " + sh_quote(binary()) + " " +
                           sh_quote(data(pbf)) + " -o " + sh_quote(out) + " --sources " + sh_quote(sources) + " -q " + extra);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    };
    const std::string planned_on =
        "SELECT k || '|' || n FROM (SELECT coalesce(json_extract(tried, '$[0][0]'), source) AS k, count(*) AS n FROM jobs GROUP BY k)";
    const std::string served_by = "SELECT k || '|' || n FROM (SELECT source AS k, count(*) AS n FROM jobs WHERE status = 'written' GROUP BY k)";

    // Monaco: planned on SkySat (the finest that covers it), served by SkySat where its scenes
    // are, by Sentinel-2 elsewhere; what only SkySat can show fails with SkySat's reason.
    const auto monaco_out = dir + "/monaco";
    build_of("osm/monaco-latest.osm.pbf", monaco_out, ""); // every object: Monaco has few large ones
    MESSAGE("Monaco: planned on " << show(counts(monaco_out, planned_on)) << "; images by " << show(counts(monaco_out, served_by)));
    CHECK(jobs_where(monaco_out, "status = 'written' AND source = 'P3' AND tried = '[]'") > 0);
    CHECK(jobs_where(monaco_out, "status = 'written' AND source = 'S2' AND json_extract(tried, '$[0][0]') = 'P3'") > 5);
    for (const auto& reason : sql_column(monaco_out + "/state.sqlite", "SELECT reason FROM jobs WHERE status = 'failed'"))
        CHECK(reason.starts_with("no eligible source has imagery here (P3: Earth Engine (P3, SKYSAT/GEN-A/PUBLIC/ORTHO/RGB): no image over this tile"));

    // Liechtenstein: CH where the footprint says; SkySat and Sentinel-2 have nothing, so
    // lakes, forests and farmland go on to Landsat.
    const auto li_out = dir + "/liechtenstein";
    build_of("osm/liechtenstein-2013-08-03.osm.pbf", li_out, "--limit 400");
    MESSAGE("Liechtenstein: planned on " << show(counts(li_out, planned_on)) << "; images by " << show(counts(li_out, served_by)));
    CHECK(jobs_where(li_out, "status = 'written' AND source = 'CH'") > 100);
    CHECK(jobs_where(li_out, "status = 'written' AND source IN ('L8', 'L9') AND tried LIKE '%\"S2\"%'") > 0);
    const auto stats = nlohmann::json::parse(http_get(fake.url("/stats")));
    // The fake's SWISSIMAGE never had to say "no image": no tile was asked of it outside its footprint...
    CHECK(stats["times_by_collection"]["ORTHO/Switzerland/SWISSIMAGE/10cm"].get<int>() > 100);
    CHECK(stats["no_image_by_collection"]["ORTHO/Switzerland/SWISSIMAGE/10cm"] == 0);
    // ...though the extract has objects inside CH's old box [5.9, 45.8, 10.6, 47.8] but outside
    // Switzerland and Liechtenstein (Austria's Vorarlberg), which that box sent to CH.
    skyscript::imagery::SourceConfig builtin_ch;
    for (const auto& s : skyscript::imagery::builtin_sources())
        if (s.alias == "CH") builtin_ch = s;
    std::int64_t in_old_box_only = 0;
    for (const auto& row : sql_column(li_out + "/catalog.gpkg", "SELECT rep_lon || ' ' || rep_lat FROM objects")) {
        const double lon = std::stod(row), lat = std::stod(row.substr(row.find(' ') + 1));
        in_old_box_only += lon >= 5.9 && lon <= 10.6 && lat >= 45.8 && lat <= 47.8 && !builtin_ch.covers(lon, lat);
    }
    MESSAGE("Liechtenstein's catalog: " << in_old_box_only << " objects inside CH's old box but outside its footprint");
    CHECK(in_old_box_only > 50);
    CHECK(stats["user_project_wrong"] == 0);
}

TEST_CASE("a tile without one pixel of imagery is passed on even at --min-valid 0, never written as a black pair (red-team round 32)") {
    const auto& s = half_and_full();
    const auto out = fresh_dir("fallback-min-valid-0") + "/out";
    const auto r = build_with(out, s.sources, "--limit 150 --min-valid 0");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(jobs_where(out, "status = 'written' AND valid_fraction <= 0") == 0); // before: the east half's jobs, black
    // Passed on (FULL's 2 m takes none of this sample's), and failed saying why.
    CHECK(jobs_where(out, "status = 'failed' AND reason = 'no eligible source has imagery here (HALF: no pixel of the tile has imagery)'") > 0);
    CHECK(jobs_where(out, "status = 'written' AND source = 'HALF' AND valid_fraction < 0.9") > 0); // --min-valid 0 still takes a part
}

TEST_CASE("--source-policy all: a source's job without imagery fails naming that source, not 'no eligible source', and the report does not count it as such (red-team round 32)") {
    const auto& s = half_and_full();
    const auto dir = fresh_dir("fallback-policy-all");
    // HALF, and the whole rendering at its 0.5 m: every object HALF can take, it can.
    const auto half_toml = read_file(s.sources).substr(0, read_file(s.sources).find("\n\n") + 1);
    write_file(dir + "/sources.toml", half_toml + "[[source]]\nalias = \"WHOLE\"\nkind = \"gdal\"\npath = \"" + monaco().raster + "\"\nyear = 2021\n");
    const auto out = dir + "/out";
    const auto r = build_with(out, dir + "/sources.toml", "--limit 150 --source-policy all");
    INFO(r.err);
    // HALF's jobs in its empty half fail; the same objects' FULL jobs are written.
    const auto imaged_elsewhere = "status = 'failed' AND EXISTS (SELECT 1 FROM jobs w WHERE w.osm_type = jobs.osm_type AND w.osm_id = jobs.osm_id AND "
                                  "w.status = 'written')";
    REQUIRE(jobs_where(out, imaged_elsewhere) > 0);
    CHECK(jobs_where(out, std::string(imaged_elsewhere) + " AND reason LIKE 'no eligible source%'") == 0); // before: all of them
    CHECK(jobs_where(out, "status = 'failed' AND reason LIKE 'source HALF has no imagery here (%'") > 0);
    CHECK(read_file(out + "/report.json").find("\"every_source_said_no\": 0,") != std::string::npos);
}

TEST_CASE("a source that is down is stopped after 32 jobs failed in a row, not passed over to the next: the other source's jobs are all fetched") {
    const auto dir = fresh_dir("fallback-dead-source");
    // Nothing listens there: every request is refused at once. FULL here is the rendering itself.
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"DOWN\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:" + std::to_string(free_loopback_port()) +
                                          "/{z}/{x}/{y}.png\"\ngsd = 0.6\nmax_zoom = 18\nyear = 2022\n\n[[source]]\nalias = \"FULL\"\nkind = \"gdal\"\npath = \"" +
                                          monaco().raster + "\"\nyear = 2020\n");
    const auto out = dir + "/out";
    const auto r = build_with(out, dir + "/sources.toml", "--limit 300 --attempts 1 --source-policy random");
    INFO(r.out << r.err);
    const auto down = jobs_where(out, "source = 'DOWN'"), full = jobs_where(out, "source = 'FULL'");
    MESSAGE("DOWN " << down << " jobs, FULL " << full);
    REQUIRE(down >= 45);
    REQUIRE(full >= 20);
    CHECK(r.exit_code == 1); // the fetch did not finish
    // A server's failure is no "no imagery here": nothing passed on to FULL, which fetched all its own.
    CHECK(jobs_where(out, "tried IS NOT NULL AND tried != '[]' AND tried != ''") == 0);
    CHECK(jobs_where(out, "source = 'FULL' AND status = 'written'") == full);
    const auto failed = jobs_where(out, "source = 'DOWN' AND status = 'failed'");
    CHECK(failed >= 32);
    CHECK(failed < down);
    CHECK(jobs_where(out, "source = 'DOWN' AND status = 'planned'") == down - failed);
    CHECK(r.err.find("fetch: source DOWN stopped: 32 jobs in a row failed, with no image between them") != std::string::npos);
    // The pairs written are split; the rerun asks DOWN's planned jobs, which fail in their turn
    // (32 more, or all that are left): every run gets further.
    CHECK(lines(read_file(out + "/SkyScript_train_unfiltered.csv")).size() > 1);
    const auto again = build_with(out, dir + "/sources.toml", "--limit 300 --attempts 1 --source-policy random");
    INFO(again.out << again.err);
    const auto failed_again = jobs_where(out, "source = 'DOWN' AND status = 'failed'");
    CHECK(failed_again >= std::min(down, failed + 32));
    CHECK(jobs_where(out, "source = 'DOWN' AND status = 'planned'") == down - failed_again);
    CHECK(again.exit_code == (failed_again < down ? 1 : 0));
}

TEST_CASE("a source whose server is down when the fetch opens it is stopped alone: the other source's jobs are all fetched, the build exits 1 naming it (red-team round 44)") {
    const auto dir = fresh_dir("fallback-unopened-source");
    fs::copy_file(monaco().raster, dir + "/remote.tif");
    const auto out = dir + "/out";
    const std::string args = "--limit 300 --attempts 1 --source-policy random";
    {
        // Up for the plan (which reads the raster's footprint), down before the fetch.
        const ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", dir});
        write_file(dir + "/sources.toml", "[[source]]\nalias = \"REMOTE\"\nkind = \"gdal\"\npath = \"/vsicurl/" + server.url("/xyz/remote.tif") +
                                              "\"\nyear = 2021\n\n[[source]]\nalias = \"FULL\"\nkind = \"gdal\"\npath = \"" + monaco().raster + "\"\nyear = 2020\n");
        const auto extract = run("timeout 300 " + sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " -q");
        REQUIRE_MESSAGE(extract.exit_code == 0, extract.err);
        const auto plan = run("timeout 300 " + sh_quote(binary()) + " plan " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml") +
                              " --limit 300 --source-policy random -q");
        REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    }
    const auto remote = jobs_where(out, "source = 'REMOTE'"), full = jobs_where(out, "source = 'FULL'");
    MESSAGE("REMOTE " << remote << " jobs, FULL " << full);
    REQUIRE(remote > 0);
    REQUIRE(full > 0);
    const auto r = run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                       sh_quote(dir + "/sources.toml") + " " + args);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    // Before: "error: /vsicurl/...: cannot open as a raster ..." and no source's job fetched.
    CHECK(r.err.find("fetch: source REMOTE stopped: it could not be opened: ") != std::string::npos);
    CHECK(jobs_where(out, "source = 'FULL' AND status = 'written'") == full);
    CHECK(jobs_where(out, "source = 'REMOTE' AND status = 'planned'") == remote);
    CHECK(r.out.find("its " + std::to_string(remote) + " other jobs stay planned for the next run") != std::string::npos);
}
