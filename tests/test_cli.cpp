// Command-line hygiene of every command, through the real binary:
//   - `-q`/`--quiet`: nothing on stderr but errors, stdout only the command's own output;
//   - a GDAL failure is one line (ours, carrying GDAL's message), not GDAL's lines and ours.

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

std::string bin() { return sh_quote(binary()); }
std::string monaco() { return sh_quote(data("osm/monaco-latest.osm.pbf")); }

// A GeoTIFF whose header reads and whose pixels do not: the first KB of a real one.
std::string corrupt_tif(const std::string& dir) {
    const auto good = read_file(data("imagery/dop-rgb.tif"));
    const auto path = dir + "/corrupt.tif";
    write_file(path, good.substr(0, 1000));
    return path;
}

void check_quiet(const CommandResult& r) {
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
}

} // namespace

TEST_CASE("-q on caption: the two caption lines and nothing else") {
    const auto loud = run(bin() + " caption building=yes name=Foo --around highway=footway,ref=3");
    REQUIRE(loud.exit_code == 0);
    CHECK(!loud.err.empty()); // the dropped tags, without -q
    for (const char* q : {"-q", "--quiet"}) {
        const auto r = run(bin() + " caption " + q + " building=yes name=Foo --around highway=footway,ref=3");
        check_quiet(r);
        CHECK(r.out == loud.out);
        CHECK(lines(r.out).size() == 2);
    }
    // Errors still say what is wrong.
    const auto bad = run(bin() + " caption -q name=Foo");
    CHECK(bad.exit_code == 1);
    CHECK(lines(bad.err).size() == 1);
}

TEST_CASE("-q on tags: --list and --stats print their output only") {
    const auto list = run(bin() + " tags --list -q");
    check_quiet(list);
    CHECK(list.out == run(bin() + " tags --list").out);
    CHECK(list.out.find("building=*\tfeature\t1\n") != std::string::npos);
    const auto stats = run(bin() + " tags -q --stats " + monaco() + " --top 3");
    check_quiet(stats);
    CHECK(stats.out.starts_with("# "));
}

TEST_CASE("-q on sources: the table only") {
    // A usable source: unusable ones are errors, which -q does not hide (sources exits 1).
    const auto dir = fresh_dir("cli_quiet_sources");
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"ORTHO\"\nkind = \"gdal\"\npath = \"" + data("imagery/orthophoto.tif") + "\"\nyear = 2020\n");
    const auto r = run(bin() + " sources -q --sources " + sh_quote(dir + "/sources.toml"));
    check_quiet(r);
    CHECK(r.out == run(bin() + " sources --sources " + sh_quote(dir + "/sources.toml")).out);
    CHECK(r.out.starts_with("alias "));
}

TEST_CASE("-q on extract and on the bare command: no progress, no summary") {
    const auto dir = fresh_dir("cli_quiet_extract");
    const auto e = run(bin() + " extract -q " + monaco() + " -o " + sh_quote(dir + "/e"));
    check_quiet(e);
    CHECK(e.out.empty());
    REQUIRE(std::filesystem::exists(dir + "/e/catalog.gpkg"));
    // The bare command needs imagery: a rendering of the catalog (tests/render_osm_raster.sh).
    const auto render = run(sh_quote(source_dir() + "/tests/render_osm_raster.sh") + " " + sh_quote(dir + "/e/catalog.gpkg") + " " +
                            sh_quote(dir + "/render.tif") + " 7.41,43.728,7.435,43.745 1");
    INFO(render.err);
    REQUIRE(render.exit_code == 0);
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + dir + "/render.tif\"\nyear = 2021\n");
    const auto all = run(bin() + " " + monaco() + " --quiet --bbox 7.420,43.735,7.425,43.738 --limit 5 --sources " +
                         sh_quote(dir + "/sources.toml") + " -o " + sh_quote(dir + "/all"));
    check_quiet(all);
    CHECK(all.out.empty());
    CHECK(lines(read_file(dir + "/all/SkyScript_train_unfiltered.csv")).size() >= 2); // the header and an image
}

TEST_CASE("-q on fetch-one: the tile, and nothing on stdout or stderr") {
    const auto dir = fresh_dir("cli_quiet_fetch_one");
    const auto r = run(bin() + " fetch-one -q --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                       " --center 9.505,53.513 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/t.jpg"));
    check_quiet(r);
    CHECK(r.out.empty());
    CHECK(std::filesystem::file_size(dir + "/t.jpg") > 1000);
}

TEST_CASE("a GDAL failure gives exactly one line on stderr, ours, with GDAL's reason") {
    const auto dir = fresh_dir("cli_gdal_errors");
    const std::string tile = " --center 9.505,53.513 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/t.jpg");

    const auto missing = run(bin() + " fetch-one --raster /nonexistent.tif" + tile);
    CHECK(missing.exit_code == 1);
    REQUIRE(lines(missing.err).size() == 1);
    CHECK(missing.err.starts_with("skyscript-build: error: /nonexistent.tif"));

    // Pixels that cannot be read: GDAL reports several TIFF errors; we print one line that
    // quotes the last.
    const auto corrupt = corrupt_tif(dir);
    const auto read = run(bin() + " fetch-one --raster " + sh_quote(corrupt) + tile);
    CHECK(read.exit_code == 1);
    INFO(read.err);
    REQUIRE(lines(read.err).size() == 1);
    CHECK(read.err.starts_with("skyscript-build: error: " + corrupt));
    CHECK(read.err.find("GDAL: ") != std::string::npos);
    CHECK(read.err.find("TIFF") != std::string::npos);
    CHECK(read.err.find("ERROR 1") == std::string::npos);
    CHECK(!std::filesystem::exists(dir + "/t.jpg"));

    // Outside the raster: our reason, and GDAL's (the file is damaged) after it, still one line.
    const auto outside = run(bin() + " fetch-one --raster " + sh_quote(corrupt) +
                             " --center 9.6,53.6 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/t.jpg"));
    CHECK(outside.exit_code == 1);
    REQUIRE(lines(outside.err).size() == 1);
    CHECK(outside.err.find("TIFF") != std::string::npos);

    // `sources --check` reports the damaged raster in its table; GDAL adds nothing on stderr.
    write_file(dir + "/s.toml", "[[source]]\nalias = \"D\"\nkind = \"gdal\"\npath = \"" + corrupt +
                                    "\"\ngsd = 1\ncoverage = [9.49, 53.50, 9.52, 53.52]\n");
    const auto check = run(bin() + " sources --check --sources " + sh_quote(dir + "/s.toml"));
    CHECK(check.exit_code == 0);
    CHECK(check.err.empty());
    CHECK(lines(check.out).size() == 2);
}

TEST_CASE("a tool whose result is what it prints, started with stdout closed (>&-), says so and exits 1; a stage's files are its result (red-team round 33)") {
    for (const std::string args : {"tags --list", "caption amenity=parking", "sources", "--help", "extract --help", "status /nonexistent"}) {
        CAPTURE(args);
        const auto r = run(sh_quote(binary()) + " " + args + " >&-");
        CHECK(r.exit_code == 1); // before: 0, the output gone to /dev/null
        CHECK(lines(r.err).size() == 1);
        CHECK(r.err.find("standard output is closed (Bad file descriptor)") != std::string::npos);
    }
    // fetch-one's result is its JPEG: written, exit 0.
    const auto dir = fresh_dir("cli-closed-stdout");
    const auto r = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(data("imagery/pan1.tif")) + " --center 4.35574,51.86963 --side-m 60 --gsd 0.5 -o " +
                       sh_quote(dir + "/t.jpg") + " >&-");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(fs::exists(dir + "/t.jpg"));
}

TEST_CASE("`--` ends the options: an input named like an option is read after it; options after it are said to belong before it (red-team round 33)") {
    const auto dir = fresh_dir("cli-double-dash");
    fs::copy_file(data("osm/monaco-latest.osm.pbf"), dir + "/-in.osm.pbf");
    const auto wrong = run("cd " + sh_quote(dir) + " && " + sh_quote(binary()) + " -- -in.osm.pbf -o out -q");
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.err.find("expected one INPUT.osm.pbf, got 4 (after `--` every argument is an input: put the options before it)") != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/out"));
    // Options first, then `--` and the input: the extract reads it (its own stage, quick).
    const auto right = run("cd " + sh_quote(dir) + " && " + sh_quote(binary()) + " extract -o out -q -- -in.osm.pbf");
    CHECK_MESSAGE(right.exit_code == 0, right.err);
    CHECK(fs::exists(dir + "/out/catalog.gpkg"));
}

TEST_CASE("an error met with the working folder gone says so: relative paths lead nowhere (red-team round 34)") {
    const auto dir = fresh_dir("cli-cwd-gone");
    for (const std::string args : {"split ../out", "status ../out", "merge ../m ../s0 ../s1"}) {
        CAPTURE(args);
        const auto r = run("cd " + sh_quote(dir) + " && mkdir gone && cd gone && rmdir ../gone && " + sh_quote(binary()) + " " + args);
        CHECK(r.exit_code == 1);
        REQUIRE(lines(r.err).size() == 1);
        CHECK(r.err.find("(the working folder no longer exists, so relative paths lead nowhere: run it again from a folder that does)") != std::string::npos);
    }
    const auto here = run("cd " + sh_quote(dir) + " && " + sh_quote(binary()) + " status ../out"); // a folder that is there: no such words
    CHECK(here.exit_code == 1);
    CHECK(here.err.find("working folder") == std::string::npos);
    // Nor for a run given absolute paths only, whose failure the missing folder is no cause of.
    const auto absolute = run("cd " + sh_quote(dir) + " && mkdir gone && cd gone && rmdir ../gone && " + sh_quote(binary()) + " status " + sh_quote(dir + "/none") +
                              " --window 30");
    CHECK(absolute.exit_code == 1);
    CHECK(absolute.err.find("working folder") == std::string::npos); // 30 is a number, not a path
    // The bare command's default OUT (./out) is a relative path given by no one.
    const auto default_out = run("cd " + sh_quote(dir) + " && mkdir gone && cd gone && rmdir ../gone && " + sh_quote(binary()) + " " +
                                 sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q");
    CHECK(default_out.exit_code != 0);
    CHECK(default_out.err.find("(the working folder no longer exists") != std::string::npos);
}

TEST_CASE("a command whose stdout cannot be written (a full disk: /dev/full) says so and exits 1, not 0 with its output lost (red-team round 28)") {
    for (const std::string args : {"tags --list", "caption amenity=parking", "sources", "--help", "extract --help", "split --help"}) { // help is a tool's output too (round 30)
        CAPTURE(args);
        const auto r = run(sh_quote(binary()) + " " + args + " > /dev/full");
        CHECK(r.exit_code == 1); // before: 0
        REQUIRE_FALSE(lines(r.err).empty());
        CHECK(lines(r.err).back().find("writing to standard output failed") != std::string::npos); // sources first warns of unusable sources
    }
}

TEST_CASE("caption refuses a key given twice, and `+` alone after --tags/--hidden names its problem, not an empty file (round 36)") {
    // Before: `building=yes building=house` captioned "building, building of house", an object OSM cannot hold.
    for (const std::string args : {"building=yes building=house", "'{\"building\":\"yes\",\"building\":\"house\"}'",
                                   "building=yes --around highway=primary,highway=service", "building=yes --around '{\"a\":\"b\",\"a\":\"c\"}'"}) {
        const auto r = run(bin() + " caption " + args);
        CHECK_MESSAGE(r.exit_code == 2, args);
        CHECK(r.out.empty());
        CHECK(lines(r.err).size() == 1);
        CHECK_MESSAGE(r.err.find("` given twice") != std::string::npos, r.err);
    }
    CHECK(run(bin() + " caption building=yes highway=primary").exit_code == 0); // two keys, one value each
    // Before: "error: : cannot open tag list (no such file)", naming neither the option nor the problem.
    for (const std::string command : {" caption building=yes --tags +", " tags --list --tags +"}) {
        const auto r = run(bin() + command);
        CHECK(r.exit_code != 0);
        CHECK_MESSAGE(r.err.find("--tags +: no file after `+`") != std::string::npos, r.err);
    }
    const auto dir = fresh_dir("cli-plus-alone");
    for (const char* option : {"--tags", "--hidden"}) {
        const auto r = run(bin() + " " + monaco() + " -o " + sh_quote(dir + "/out") + " -q " + option + " +");
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err.find(std::string(option) + " +: no file after `+`") != std::string::npos, r.err);
        CHECK_FALSE(fs::exists(dir + "/out"));
    }
}
