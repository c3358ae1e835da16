// Experiments without refetching (issue 13): a rebuild with another tag list, or from a newer
// OSM snapshot (made here from the real extract with osmium-tool), takes every unchanged
// tile's image from the first build (--reuse) and asks the loopback tile server only for the
// tiles that changed; its dataset equals a fresh build's, images byte for byte.

#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

const std::string region = "--bbox 7.419,43.731,7.425,43.737";

// One tile server for the suite: the cases' builds name the same source, so any build may reuse another's images.
struct TileServer {
    ServerProcess server{{"python3", source_dir() + "/tests/http_test_server.py", "--root", rendering_tiles()}};
    std::string sources;
    explicit TileServer(const std::string& dir) : sources(dir + "/sources.toml") {
        write_file(sources, "[[source]]\nalias = \"XYZ\"\nkind = \"xyz\"\nurl = \"" + server.url("/xyz/{z}/{x}/{y}.png") +
                                "\"\ngsd = 0.6\nmax_zoom = 17\nyear = 2021\ncoverage = [7.41, 43.727, 7.435, 43.75]\n");
    }
    long long requests() const {
        long long n = 0;
        const auto stats = nlohmann::json::parse(http_get(server.url("/stats"))); // named: items() refers into it
        for (const auto& [path, hits] : stats["hits"].items()) n += hits.get<long long>();
        return n;
    }
};

TileServer& tiles() {
    static TileServer t(fresh_dir("reuse-tile-server"));
    return t;
}

struct Built {
    CommandResult result;
    long long requests = 0;
    double seconds = 0;
};

Built build_with(const std::string& pbf, const std::string& out, const std::string& extra, const std::string& sources = tiles().sources) {
    const auto before = tiles().requests();
    const auto start = std::chrono::steady_clock::now();
    Built b;
    b.result = run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(pbf) + " -o " + sh_quote(out) + " --sources " + sh_quote(sources) + " " +
                   region + " --timeout 10 " + extra);
    b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    b.requests = tiles().requests() - before;
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    return b;
}

// The build every case starts from (Monaco's region, the default options), made once; a case
// takes its own copy at `to` (its own files, not links) and may change it.
Built first_build(const std::string& to) {
    static const auto made = [] {
        const auto dir = fresh_dir("reuse-first");
        return std::pair{dir + "/first", build_with(data("osm/monaco-latest.osm.pbf"), dir + "/first", "")};
    }();
    fs::copy(made.first, to, fs::copy_options::recursive);
    return made.second;
}

// stem -> (caption row, meta.jsonl line without the file path, image bytes)
std::map<std::string, std::string> dataset(const std::string& out) {
    std::map<std::string, std::string> d;
    for (const auto& line : lines(read_file(out + "/meta.jsonl"))) {
        auto j = nlohmann::ordered_json::parse(line);
        const std::string path = j["filepath"];
        d[path] = j.dump() + "\n" + read_file(out + "/" + path);
    }
    d["csv"] = read_file(out + "/SkyScript_train_unfiltered.csv");
    return d;
}

} // namespace

TEST_CASE("a new tag list reuses every tile: no request, captions and meta from the new list, the same dataset as a fresh build") {
    const auto dir = fresh_dir("reuse-whitelist");
    const auto pbf = data("osm/monaco-latest.osm.pbf");
    const auto first = first_build(dir + "/first");
    CHECK(first.requests > 0);
    // The experiment: surface is no longer groundable (a smaller list), so captions change; no tile does.
    write_file(dir + "/no-surface.tsv", "surface\tdeny\n");
    const auto again = build_with(pbf, dir + "/again", "--tags +" + dir + "/no-surface.tsv --reuse " + dir + "/first");
    CHECK(again.requests == 0);
    const auto jobs = sql_int(dir + "/again/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'");
    CHECK(again.result.out.find("reused " + std::to_string(jobs) + " images") != std::string::npos);
    // The report counts it too: every image reused, none fetched anew.
    const auto report = nlohmann::json::parse(read_file(dir + "/again/report.json"));
    CHECK(report["reuse"]["reused"] == jobs);
    CHECK(report["reuse"]["fetched"] == 0);
    CHECK(read_file(dir + "/again/report.html").find("data-reused=\"" + std::to_string(jobs) + "\"") != std::string::npos);
    CHECK(read_file(dir + "/again/SkyScript_train_unfiltered.csv").find("surface of") == std::string::npos);
    CHECK(read_file(dir + "/first/SkyScript_train_unfiltered.csv").find("surface of") != std::string::npos);
    // A fresh build with the same list gives the same dataset, images byte for byte.
    const auto fresh = build_with(pbf, dir + "/fresh", "--tags +" + dir + "/no-surface.tsv");
    CHECK(fresh.requests > 0);
    CHECK(dataset(dir + "/again") == dataset(dir + "/fresh"));
    const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_dataset.py") + " " + sh_quote(dir + "/again"));
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
    MESSAGE("first build " << first.seconds << " s (" << first.requests << " requests), whitelist rebuild with --reuse " << again.seconds
                           << " s (0 requests): " << 100 * again.seconds / first.seconds << "% of the first");
}

TEST_CASE("an old build's image cut or replaced since is not reused: its tile is fetched again") {
    const auto dir = fresh_dir("reuse-cut-image");
    const auto pbf = data("osm/monaco-latest.osm.pbf");
    first_build(dir + "/first");
    const auto expected = dataset(dir + "/first");
    fs::copy(dir + "/first", dir + "/copy", fs::copy_options::recursive); // its own files, not links
    const auto images = sql_column(dir + "/first/state.sqlite", "SELECT 'images' || part || '/' || stem || '.jpg' FROM jobs WHERE status = 'written' ORDER BY job_id");
    REQUIRE(images.size() > 10);
    const auto cut = dir + "/first/" + images[3], grown = dir + "/first/" + images[8];
    const auto bytes = read_file(cut);
    write_file(cut, bytes.substr(0, bytes.size() / 2)); // a copy that stopped
    write_file(grown, read_file(grown) + "trailing bytes");
    const auto again = build_with(pbf, dir + "/again", "--reuse " + dir + "/first");
    CHECK(again.requests > 0);
    CHECK(again.result.out.find("reused " + std::to_string(images.size() - 2) + " images") != std::string::npos);
    CHECK(again.result.out.find("2 images of earlier builds not reused: gone, or not the size their build wrote") != std::string::npos);
    CHECK(dataset(dir + "/again") == expected); // the two fetched anew, byte for byte what they were
    // With a second old build that has them whole, its copies are taken: no request at all.
    const auto both = build_with(pbf, dir + "/both", "--reuse " + dir + "/first --reuse " + dir + "/copy");
    CHECK(both.requests == 0);
    CHECK(both.result.out.find("reused " + std::to_string(images.size()) + " images") != std::string::npos);
    CHECK(both.result.out.find("2 images of earlier builds not reused") != std::string::npos);
    CHECK(dataset(dir + "/both") == expected);
}

TEST_CASE("an old image with less imagery than this build's --min-valid is not reused: its tile is fetched and judged again") {
    const auto dir = fresh_dir("reuse-min-valid");
    const auto pbf = data("osm/monaco-latest.osm.pbf");
    build_with(pbf, dir + "/first", "--min-valid 0.2");
    const auto expected = dataset(dir + "/first");
    const auto written = sql_int(dir + "/first/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'");
    REQUIRE(written > 10);
    // Three images half imagery, as a build with --min-valid 0.2 keeps them at a raster's edge.
    REQUIRE(run("sqlite3 " + sh_quote(dir + "/first/state.sqlite") +
                " \"UPDATE jobs SET valid_fraction = 0.5 WHERE job_id IN (SELECT job_id FROM jobs WHERE status = 'written' ORDER BY job_id LIMIT 3)\"")
                .exit_code == 0);
    // Before: all reused, no request: a build with the default 0.9 kept images a fresh one refuses.
    const auto again = build_with(pbf, dir + "/again", "--reuse " + dir + "/first");
    CHECK(again.requests > 0);
    CHECK_MESSAGE(again.result.out.find("reused " + std::to_string(written - 3) + " images") != std::string::npos, again.result.out);
    CHECK(sql_int(dir + "/again/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written' AND valid_fraction < 0.9") == 0);
    CHECK(dataset(dir + "/again") == expected); // the tiles are whole: fetched again, the same images
}

TEST_CASE("a newer snapshot fetches only the tiles of objects that moved or were added") {
    const auto dir = fresh_dir("reuse-snapshot");
    const auto pbf = data("osm/monaco-latest.osm.pbf");
    const auto first = first_build(dir + "/first");
    // The newer snapshot, from the real extract through osmium's OPL: three trees moved by ~20 m,
    // two deleted, one added.
    REQUIRE(run("osmium cat -f opl -o " + sh_quote(dir + "/old.opl") + " " + sh_quote(pbf)).exit_code == 0);
    const auto trees = sql_column(dir + "/first/state.sqlite",
                                  "SELECT osm_id FROM jobs WHERE kind = 'n' AND focus_tag = 'natural=tree' AND status = 'written' ORDER BY osm_id");
    REQUIRE(trees.size() >= 5);
    std::string opl;
    int moved = 0, deleted = 0;
    for (const auto& line : lines(read_file(dir + "/old.opl"))) {
        const auto id = line.substr(1, line.find(' ') - 1);
        if (line[0] == 'n' && std::find(trees.begin(), trees.begin() + 3, id) != trees.begin() + 3) {
            const auto x = line.find(" x");
            opl += line.substr(0, x) + " x" + std::to_string(std::stod(line.substr(x + 2)) + 0.00025) + line.substr(line.find(" y")) + "\n";
            ++moved;
            continue;
        }
        if (line[0] == 'n' && (id == trees[3] || id == trees[4])) {
            ++deleted;
            continue;
        }
        if (line[0] == 'w' && opl.find("n9000000001 ") == std::string::npos) // the new node goes last among the nodes
            opl += "n9000000001 v1 dV c0 t2024-01-01T00:00:00Z i0 u Tnatural=tree x7.4201 y43.7341\n";
        opl += line + "\n";
    }
    REQUIRE(moved == 3);
    REQUIRE(deleted == 2);
    write_file(dir + "/newer.opl", opl);
    REQUIRE(run("osmium cat -o " + sh_quote(dir + "/newer.osm.pbf") + " " + sh_quote(dir + "/newer.opl")).exit_code == 0);

    const auto newer = build_with(dir + "/newer.osm.pbf", dir + "/newer", "--reuse " + dir + "/first");
    const auto db = dir + "/newer/state.sqlite";
    const auto written = sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'");
    // Every job but the four changed trees took its image from the first build.
    CHECK(newer.result.out.find("reused " + std::to_string(written - 4) + " images") != std::string::npos);
    const auto report = nlohmann::json::parse(read_file(dir + "/newer/report.json"));
    CHECK(report["reuse"]["reused"] == written - 4);
    CHECK(report["reuse"]["fetched"] == 4);
    CHECK(report["reuse"]["not_needed"].get<long long>() >= 2); // the deleted trees' and the moved trees' old tiles
    CHECK(newer.requests > 0);
    CHECK(newer.requests < first.requests / 10);
    // Deleted objects are gone, the new one is there, and the result equals a fresh build of the newer snapshot.
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE osm_id IN (" + trees[3] + ", " + trees[4] + ")") == 0);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE osm_id = 9000000001 AND status = 'written'") == 1);
    const auto fresh = build_with(dir + "/newer.osm.pbf", dir + "/fresh", "");
    CHECK(dataset(dir + "/newer") == dataset(dir + "/fresh"));
}

TEST_CASE("an old image made under another configured year is not reused: the provider's imagery updated at the same URL, a year corrected (red-team round 29)") {
    const auto dir = fresh_dir("reuse-year");
    const auto pbf = data("osm/monaco-latest.osm.pbf");
    first_build(dir + "/first");
    auto toml = read_file(tiles().sources);
    toml.replace(toml.find("year = 2021"), 11, "year = 2024");
    const auto sources_2024 = dir + "/sources-2024.toml";
    write_file(sources_2024, toml);
    const auto again = build_with(pbf, dir + "/again", "--reuse " + dir + "/first", sources_2024);
    CHECK(again.requests > 0); // before: none, every image 2021's under 2024's build
    const auto db = dir + "/again/state.sqlite";
    const auto written = sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'");
    CHECK(written > 0);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written' AND year = 2024 AND reused = 0") == written);
    CHECK(read_file(dir + "/again/meta.jsonl").find("_XYZ_21") == std::string::npos);
    // The same year again: all reused.
    const auto same = build_with(pbf, dir + "/same", "--reuse " + dir + "/again", sources_2024);
    CHECK(same.requests == 0);
}

TEST_CASE("an old build's state DB or folders edited to point outside it bring nothing in: stems, a linked images folder, another job's image, old secrets (round 36)") {
    const auto dir = fresh_dir("reuse-hostile-old");
    const auto pbf = data("osm/monaco-latest.osm.pbf");
    first_build(dir + "/first");
    const auto expected = dataset(dir + "/first");
    const auto sql = [&](const std::string& db, const std::string& statement) {
        REQUIRE(run("sqlite3 " + sh_quote(db) + " " + sh_quote(statement)).exit_code == 0);
    };
    // (1) Stems edited: one to a file outside OLD of its recorded size, one to another job's image
    // (another tile side) with that image's size. Before: the outside text and the other image placed as theirs.
    fs::copy(dir + "/first", dir + "/stems", fs::copy_options::recursive);
    fs::create_directories(dir + "/outside");
    const auto first_stem = sql_column(dir + "/stems/state.sqlite", "SELECT stem FROM jobs WHERE job_id = 0");
    REQUIRE(first_stem.size() == 1);
    write_file(dir + "/outside/secret.jpg", "not an image: a private text file outside OLD");
    sql(dir + "/stems/state.sqlite", "UPDATE jobs SET stem = '../../outside/secret', image_bytes = " +
                                         std::to_string(fs::file_size(dir + "/outside/secret.jpg")) + " WHERE job_id = 0");
    sql(dir + "/stems/state.sqlite",
        "UPDATE jobs SET (stem, image_bytes) = (SELECT o.stem, o.image_bytes FROM jobs o WHERE o.width != jobs.width AND o.status = 'written' "
        "ORDER BY o.job_id LIMIT 1) WHERE job_id = 1");
    const auto stems = build_with(pbf, dir + "/from-stems", "--reuse " + dir + "/stems");
    CHECK(stems.requests > 0);
    CHECK_MESSAGE(stems.result.out.find("1 images of earlier builds not reused") != std::string::npos, stems.result.out); // the edited stem of another job's image
    CHECK(dataset(dir + "/from-stems") == expected);
    // (2) OLD's images folder a link to files of the recorded sizes. Before: every one taken.
    fs::copy(dir + "/first", dir + "/linked", fs::copy_options::recursive);
    fs::rename(dir + "/linked/images1", dir + "/fakes");
    for (const auto& f : fs::directory_iterator(dir + "/fakes")) write_file(f.path().string(), std::string(fs::file_size(f.path()), 'Z'));
    fs::create_directory_symlink(dir + "/fakes", dir + "/linked/images1");
    const auto linked = build_with(pbf, dir + "/from-linked", "--reuse " + dir + "/linked");
    CHECK(linked.requests > 0);
    CHECK(linked.result.out.find("reused ") == std::string::npos);
    CHECK(dataset(dir + "/from-linked") == expected);
    // (3) Provenance an older version recorded before its redaction knew a name: redacted when reused and when written.
    fs::copy(dir + "/first", dir + "/secrets", fs::copy_options::recursive);
    sql(dir + "/secrets/state.sqlite", "UPDATE jobs SET provenance = '{\"assets\":[\"https://x.example/B04.tif?sp=rl&sig=SECRETSIGNATURE123\"]}' WHERE job_id = 2");
    build_with(pbf, dir + "/from-secrets", "--reuse " + dir + "/secrets");
    CHECK(run("grep -rl SECRETSIGNATURE123 " + sh_quote(dir + "/from-secrets")).out.empty());
    CHECK(sql_int(dir + "/from-secrets/state.sqlite", "SELECT count(*) FROM jobs WHERE provenance LIKE '%sig=REDACTED%'") == 1);
    CHECK(read_file(dir + "/from-secrets/meta.jsonl").find("sig=REDACTED") != std::string::npos);
    // (4) A table dropped: the line names it (it had said "no jobs table").
    fs::copy(dir + "/first", dir + "/no-stages", fs::copy_options::recursive);
    sql(dir + "/no-stages/state.sqlite", "DROP TABLE stages");
    const auto refused = run("timeout 120 " + sh_quote(binary()) + " " + sh_quote(pbf) + " -o " + sh_quote(dir + "/from-no-stages") + " --sources " +
                             sh_quote(tiles().sources) + " " + region + " --reuse " + sh_quote(dir + "/no-stages") + " -q");
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(refused.err.find("state.sqlite: not a skyscript-build state DB (no stages table)") != std::string::npos, refused.err);
    // (5) The build's own state DB so edited: its stages stop in one line. Before: `write` made outside/own.pickle.
    fs::copy(dir + "/first", dir + "/own", fs::copy_options::recursive);
    sql(dir + "/own/state.sqlite", "UPDATE jobs SET stem = '../../outside/own' WHERE job_id = 0");
    fs::copy_file(dir + "/first/images1/" + first_stem[0] + ".jpg", dir + "/outside/own.jpg");
    for (const char* stage : {"write", "split", "report"}) {
        const auto r = run("timeout 120 " + sh_quote(binary()) + " " + stage + " " + sh_quote(dir + "/own") + " -q");
        if (std::string(stage) == "report") {
            CHECK_MESSAGE(r.exit_code == 0, r.err); // the report describes what is there
            continue;
        }
        CHECK(r.exit_code == 1);
        CHECK_MESSAGE(r.err.find("a job's recorded file name `../../outside/own` is not one the build makes") != std::string::npos, r.err);
        CHECK(lines(r.err).size() == 1);
    }
    CHECK_FALSE(fs::exists(dir + "/outside/own.pickle"));
}
