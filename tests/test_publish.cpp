// What a build publishes (issue 24): every image's licence and attribution (OpenStreetMap's and
// its source's), the terms per source in report.json and a warning for a source without them,
// the dataset card OUT/README.md and OUT/croissant.json (byte-identical on a rerun), and
// `--format hf`: the Hugging Face ImageFolder layout. The files are read by the system python3
// (tests/check_publish.py: PyYAML, hashlib, pickle).

#include "pipeline_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace skyscript::test;

namespace {

const std::string licence = "CC-BY-4.0", attribution = "Monaco rendering, (c) skyscript-build tests";

std::string licensed_sources(const std::string& dir) {
    const auto path = dir + "/licensed.toml";
    write_file(path, "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + monaco().raster + "\"\nyear = 2021\nlicence = \"" + licence +
                         "\"\nattribution = \"" + attribution + "\"\n");
    return path;
}

CommandResult build_with(const std::string& out, const std::string& sources, const std::string& extra) {
    return run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
               sh_quote(sources) + " " + extra);
}

} // namespace

TEST_CASE("licences, attribution, the dataset card, croissant.json and the Hugging Face layout agree with the files") {
    const auto dir = fresh_dir("publish");
    const auto sources = licensed_sources(dir);
    const auto out = dir + "/out";
    const auto r = build_with(out, sources, "--limit 250 --format all");
    INFO((r.out + r.err));
    REQUIRE(r.exit_code == 0);
    CHECK((r.out + r.err).find("warning: no `licence`") == std::string::npos);
    const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_publish.py") + " " + sh_quote(out) + " " + sh_quote(licence) +
                           " " + sh_quote(attribution));
    INFO((check.out + check.err));
    CHECK(check.exit_code == 0);
    const auto hub = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_hub_rows.py") + " " + sh_quote(out)); // what Arrow, under `datasets`, reads
    CHECK_MESSAGE(hub.exit_code == 0, hub.err);

    // A rerun makes the card and croissant.json again, byte for byte.
    const auto card = read_file(out + "/README.md"), croissant = read_file(out + "/croissant.json");
    const auto again = build_with(out, sources, "--limit 250 --format all");
    REQUIRE(again.exit_code == 0);
    CHECK(read_file(out + "/README.md") == card);
    CHECK(read_file(out + "/croissant.json") == croissant);

    // An OUT planned before the terms were recorded (none in its state DB): the next run records
    // them from its sources and makes every meta file again with them.
    REQUIRE(sql_int(out + "/state.sqlite", "SELECT count(*) FROM source_terms") == 1);
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " 'DELETE FROM source_terms'").exit_code == 0);
    const auto upgraded = build_with(out, sources, "--limit 250 --format all");
    INFO((upgraded.out + upgraded.err));
    REQUIRE(upgraded.exit_code == 0);
    CHECK(upgraded.out.find("write: recorded the sources' licences and attribution") != std::string::npos);
    const auto recheck = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_publish.py") + " " + sh_quote(out) + " " + sh_quote(licence) +
                             " " + sh_quote(attribution));
    INFO((recheck.out + recheck.err));
    CHECK(recheck.exit_code == 0);
    CHECK(read_file(out + "/README.md") == card);
    // The pickles made again have their sizes recorded: the next run finds every file as written.
    const auto after_upgrade = build_with(out, sources, "--limit 250 --format all");
    REQUIRE(after_upgrade.exit_code == 0);
    CHECK_MESSAGE(after_upgrade.out.find("missing on disk") == std::string::npos, after_upgrade.out);

    // The hf layout goes when another format is asked for, and `split` alone makes the card and
    // croissant.json again: its config, the CSVs' rows and digests follow (before, they named the
    // removed folders and the replaced CSVs until `report` was run).
    const auto val_before = read_file(out + "/SkyScript_val.csv");
    REQUIRE(run(sh_quote(binary()) + " split " + sh_quote(out) + " --format files --val-size 7 -q").exit_code == 0);
    CHECK_FALSE(fs::exists(out + "/hf"));
    CHECK(read_file(out + "/README.md").find("config_name: imagefolder") == std::string::npos);
    CHECK(read_file(out + "/SkyScript_val.csv") != val_before); // what check_publish.py finds the card and croissant.json agree with
    // Every file croissant.json lists has the digest it gives.
    const auto after_split = run("cd " + sh_quote(out) + " && /usr/bin/python3 -c '\n"
                                 "import hashlib, json\n"
                                 "def walk(x):\n"
                                 "    if isinstance(x, dict):\n"
                                 "        if \"sha256\" in x and \"contentUrl\" in x:\n"
                                 "            yield x[\"contentUrl\"], x[\"sha256\"]\n"
                                 "        for v in x.values(): yield from walk(v)\n"
                                 "    elif isinstance(x, list):\n"
                                 "        for v in x: yield from walk(v)\n"
                                 "files = list(walk(json.load(open(\"croissant.json\"))))\n"
                                 "assert len(files) >= 3, files\n"
                                 "for name, digest in files: assert hashlib.sha256(open(name, \"rb\").read()).hexdigest() == digest, name\n"
                                 "'");
    INFO((after_split.out + after_split.err));
    CHECK(after_split.exit_code == 0);
}

TEST_CASE("a licence holding DEL, C1 controls and line separators: the card's YAML header still loads, each on one line") {
    const auto dir = fresh_dir("publish-odd-licence");
    const auto out = dir + "/out";
    // TOML escapes: DEL, NEL, another C1 control, U+2028, U+FFFF.
    write_file(dir + "/odd.toml", "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + monaco().raster +
                                      "\"\nyear = 2021\nlicence = \"CC\\u007fBY\\u0085four\\u009b\\u2028x\\uffff\"\n");
    const auto r = build_with(out, dir + "/odd.toml", "--limit 10 -q");
    INFO((r.out + r.err));
    REQUIRE(r.exit_code == 0);
    const auto load = run("/usr/bin/python3 -c " +
                          sh_quote("import sys, yaml; h = yaml.safe_load(open(sys.argv[1], encoding='utf-8').read().split('---\\n')[1]); "
                                   "assert all(len(str(l).splitlines()) == 1 for l in h['licenses']), h['licenses']; print(h['licenses'])") +
                          " " + sh_quote(out + "/README.md"));
    CHECK_MESSAGE(load.exit_code == 0, (load.out + load.err));
    CHECK(load.out.find("CC BY four") != std::string::npos);
}

TEST_CASE("a source without a licence is named by the plan, and its images say so") {
    const auto dir = fresh_dir("publish-unlicensed");
    const auto out = dir + "/out";
    const auto r = build(out, "--limit 30");
    INFO((r.out + r.err));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("  warning: no `licence` for source RENDER in " + monaco().sources) != std::string::npos); // in the plan's summary
    const auto line = lines(read_file(out + "/meta.jsonl")).at(0);
    CHECK(line.find("\"licence\":{\"osm\":\"ODbL-1.0\",\"imagery\":\"unknown\"}") != std::string::npos);
    CHECK(line.find("\"attribution\":\"(c) OpenStreetMap contributors\"") != std::string::npos);
    CHECK(read_file(out + "/README.md").find("| RENDER | unknown (the source has no `licence`) |") != std::string::npos);
}

TEST_CASE("a build made stage by stage (extract, plan, ... report) names its input in the card and croissant.json, and the bare command with that input goes on with it (red-team round 28)") {
    const auto dir = fresh_dir("publish-stage-by-stage");
    const auto sources = licensed_sources(dir);
    const auto out = dir + "/out", b = sh_quote(binary()), pbf = data("osm/monaco-latest.osm.pbf");
    REQUIRE(run(b + " extract " + sh_quote(pbf) + " -o " + sh_quote(out) + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(out) + " --sources " + sh_quote(sources) + " --limit 30 -q").exit_code == 0);
    for (const char* stage : {"fetch", "write", "split", "report"}) REQUIRE(run(b + " " + stage + " " + sh_quote(out) + " -q").exit_code == 0);
    const auto card = read_file(out + "/README.md");
    CHECK(card.find("pairs from `monaco-latest.osm.pbf`") != std::string::npos); // before: pairs from ""
    CHECK(card.find("data as of 20") != std::string::npos);
    CHECK(card.find("skyscript-build monaco-latest.osm.pbf -o OUT") != std::string::npos); // before: skyscript-build '' -o OUT
    CHECK(read_file(out + "/croissant.json").find("1970-01-01") == std::string::npos);
    const auto bare = build_with(out, sources, "--limit 30 -q");
    CHECK_MESSAGE(bare.exit_code == 0, bare.err); // before: "asks --input ... (OUT was built with none)"
    CHECK(build_with(out, sources, "--limit 30 -q").exit_code == 0);
    // Another input is still refused, naming the one OUT was built from.
    const auto other = run("timeout 300 " + b + " " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                           sh_quote(sources) + " --limit 30 -q");
    CHECK(other.exit_code != 0);
    CHECK(other.err.find("monaco-latest.osm.pbf") != std::string::npos);
}

TEST_CASE("a licence or attribution corrected in the sources file between runs is taken by the rerun: card, croissant.json, meta.jsonl and pickles (red-team round 29)") {
    const auto dir = fresh_dir("publish-terms-corrected");
    const auto sources = licensed_sources(dir);
    const auto out = dir + "/out";
    REQUIRE(build_with(out, sources, "--limit 20 -q").exit_code == 0);
    REQUIRE(read_file(out + "/meta.jsonl").find(licence) != std::string::npos);
    auto text = read_file(sources);
    text.replace(text.find(licence), licence.size(), "CC0-1.0");
    text.replace(text.find(attribution), attribution.size(), "Corrected credit line");
    write_file(sources, text);
    const auto again = build_with(out, sources, "--limit 20");
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.out.find("recorded the sources' licences and attribution") != std::string::npos);
    for (const char* file : {"/README.md", "/croissant.json", "/meta.jsonl", "/report.json"}) {
        CAPTURE(file);
        const auto now = read_file(out + file);
        CHECK(now.find(licence) == std::string::npos); // before: the first run's terms, kept without a word
        CHECK(now.find(attribution) == std::string::npos);
    }
    const auto py = run("/usr/bin/python3 -c " + sh_quote("import glob, pickle, sys\nprint(sorted({pickle.load(open(p, 'rb'))['licence']['imagery'] "
                                                          "for p in glob.glob(sys.argv[1] + '/meta*/*.pickle')}))") + " " + sh_quote(out));
    CHECK(py.out == "['CC0-1.0']\n");
}

TEST_CASE("the card dates the data the build was made from: another file later at the input's path, or none, changes no date (red-team round 29)") {
    const auto dir = fresh_dir("publish-osm-date");
    const auto sources = licensed_sources(dir);
    const auto pbf = dir + "/region.osm.pbf", out = dir + "/out", b = sh_quote(binary());
    REQUIRE(run("cp " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " " + sh_quote(pbf)).exit_code == 0);
    REQUIRE(run("timeout 300 " + b + " " + sh_quote(pbf) + " -o " + sh_quote(out) + " --sources " + sh_quote(sources) + " --limit 20 -q").exit_code == 0);
    const std::string date = "data as of 2021-04-21T20:21:46Z";
    REQUIRE(read_file(out + "/README.md").find(date) != std::string::npos);
    // The next download at the same path (another date in its header): the card keeps the build's.
    REQUIRE(run("cp " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " " + sh_quote(pbf)).exit_code == 0);
    REQUIRE(run(b + " report " + sh_quote(out) + " -q").exit_code == 0);
    CHECK(read_file(out + "/README.md").find(date) != std::string::npos); // before: the other file's date
    CHECK(read_file(out + "/croissant.json").find("\"datePublished\": \"2021-04-21\"") != std::string::npos);
    // The input gone (a finished build's later stages need none).
    fs::remove(pbf);
    REQUIRE(run(b + " split " + sh_quote(out) + " -q").exit_code == 0);
    CHECK(read_file(out + "/README.md").find(date) != std::string::npos);
    CHECK(read_file(out + "/croissant.json").find("1970-01-01") == std::string::npos); // before: no date, 1970-01-01
    // A PBF whose header names no time at all (through OSM XML, which keeps none): the card
    // dates nothing (red-team round 39: "datePublished": "1970-01-01").
    const auto undated = dir + "/undated.osm.pbf", undated_out = dir + "/undated-out";
    REQUIRE(run("osmium cat -O -o " + sh_quote(dir + "/region.osm") + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " && osmium cat -O -o " +
                sh_quote(undated) + " " + sh_quote(dir + "/region.osm"))
                .exit_code == 0);
    REQUIRE(run("osmium fileinfo -g header.option.timestamp " + sh_quote(undated)).out == "");
    REQUIRE(run("timeout 300 " + b + " " + sh_quote(undated) + " -o " + sh_quote(undated_out) + " --sources " + sh_quote(sources) + " --limit 20 -q").exit_code == 0);
    const auto croissant = read_file(undated_out + "/croissant.json");
    CHECK(croissant.find("datePublished") == std::string::npos);
    CHECK(croissant.find("1970-01-01") == std::string::npos);
    CHECK(nlohmann::json::parse(croissant)["name"].is_string());
}

TEST_CASE("a split with no samples is left out of the card's Hub configs: its empty metadata.jsonl, or its missing tar, would stop the loader (red-team round 30)") {
    const auto dir = fresh_dir("publish-empty-split");
    const auto out = dir + "/out";
    REQUIRE(build_with(out, licensed_sources(dir), "--limit 3 --format all -q").exit_code == 0);
    const auto card = read_file(out + "/README.md");
    std::size_t empty = 0;
    for (const auto& [split, wds] : std::vector<std::pair<std::string, std::string>>{{"train", "train"}, {"validation", "val"}, {"test", "test"}}) {
        CAPTURE(split);
        const bool rows = fs::file_size(out + "/hf/" + split + "/metadata.jsonl") > 0;
        empty += !rows;
        CHECK((card.find("hf/" + split + "/*") != std::string::npos) == rows); // before: listed whatever it held
        CHECK((card.find("webdataset/" + wds + "/*.tar") != std::string::npos) == rows);
    }
    REQUIRE(empty > 0); // three images: a split is left without one
    const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_hub_rows.py") + " " + sh_quote(out));
    CHECK_MESSAGE(check.exit_code == 0, check.err);
}
