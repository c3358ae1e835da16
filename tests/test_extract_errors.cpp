// Bad input: one clear line naming the file or argument, non-zero exit, no crash,
// no half-written catalog, and an earlier good catalog left untouched.

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

struct Outcome {
    int code;
    std::string err;
};

Outcome extract_fails(const std::string& args) {
    const auto r = run(sh_quote(binary()) + " extract " + args);
    return {r.exit_code, r.err};
}

void check_one_clear_line(const Outcome& o, const std::string& must_name) {
    INFO(o.err);
    CHECK(o.code != 0);
    CHECK(o.code < 128); // an error exit, not a signal
    CHECK(lines(o.err).size() == 1);
    CHECK(o.err.find(must_name) != std::string::npos);
}

void check_no_catalog(const std::string& out) {
    CHECK_FALSE(fs::exists(out + "/catalog.gpkg"));
    CHECK_FALSE(fs::exists(out + "/catalog.gpkg.partial"));
    CHECK_FALSE(fs::exists(out + "/catalog.gpkg.partial.boxes")); // the writer's scratch file
}

} // namespace

TEST_CASE("missing, empty, truncated and garbage PBF files") {
    const auto dir = fresh_dir("errors_pbf");
    const auto good = read_file(data("osm/monaco-latest.osm.pbf"));
    write_file(dir + "/empty.osm.pbf", "");
    write_file(dir + "/truncated.osm.pbf", good.substr(0, good.size() / 3));
    write_file(dir + "/garbage.osm.pbf", std::string(5000, '\x5a'));
    write_file(dir + "/text.osm.pbf", "this is not a PBF file\n");
    for (const std::string name : {"missing.osm.pbf", "empty.osm.pbf", "truncated.osm.pbf", "garbage.osm.pbf", "text.osm.pbf"}) {
        const auto out = dir + "/out-" + name;
        INFO(name);
        check_one_clear_line(extract_fails(sh_quote(dir + "/" + name) + " -o " + sh_quote(out)), dir + "/" + name);
        check_no_catalog(out);
    }
}

TEST_CASE("a failed run leaves an earlier good catalog as it was") {
    const auto dir = fresh_dir("errors_keep");
    const auto out = dir + "/out";
    REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q -o " + sh_quote(out)).exit_code == 0);
    const auto before = read_file(out + "/catalog.gpkg");
    const auto good = read_file(data("osm/liechtenstein-2013-08-03.osm.pbf"));
    write_file(dir + "/truncated.osm.pbf", good.substr(0, good.size() - 1000));
    check_one_clear_line(extract_fails(sh_quote(dir + "/truncated.osm.pbf") + " -q -o " + sh_quote(out)), "truncated.osm.pbf");
    CHECK(read_file(out + "/catalog.gpkg") == before);
    CHECK_FALSE(fs::exists(out + "/catalog.gpkg.partial"));
}

TEST_CASE("a malformed tag list names the file and line") {
    const auto dir = fresh_dir("errors_tags");
    write_file(dir + "/bad.tsv", "building=*\tfeature\t1\nhighway=*\tfeature\tfar\n");
    const auto o = extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " --tags " + sh_quote(dir + "/bad.tsv") + " -o " + sh_quote(dir + "/out"));
    check_one_clear_line(o, dir + "/bad.tsv:2:");
    check_no_catalog(dir + "/out");
    check_one_clear_line(extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " --tags " + sh_quote(dir + "/none.tsv") + " -o " + sh_quote(dir + "/out")),
                         dir + "/none.tsv");
}

TEST_CASE("bad --bbox values are usage errors naming --bbox") {
    const auto dir = fresh_dir("errors_bbox");
    for (const std::string box : {"1,2,3", "a,b,c,d", "10,50,5,55", "-200,0,10,10", "0,80,10,95", "1,2,3,4,5"}) {
        INFO(box);
        const auto o = extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " --bbox " + sh_quote(box) + " -o " + sh_quote(dir + "/out"));
        check_one_clear_line(o, "--bbox");
        CHECK(o.code == 2);
        check_no_catalog(dir + "/out");
    }
}

TEST_CASE("unwritable output, unknown options and unsorted input") {
    const auto dir = fresh_dir("errors_misc");
    write_file(dir + "/a-file", "x");
    check_one_clear_line(extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/a-file/sub")), dir + "/a-file/sub");
    fs::create_directories(dir + "/readonly");
    fs::permissions(dir + "/readonly", fs::perms::owner_read | fs::perms::owner_exec);
    if (::geteuid() == 0) {
        // root ignores permission bits; a path under /proc cannot be written by anyone.
        check_one_clear_line(extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o /proc/skyscript-out"), "/proc/skyscript-out");
    } else {
        check_one_clear_line(extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/readonly")), dir + "/readonly");
    }
    check_one_clear_line(extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " --frobnicate"), "--frobnicate");
    check_one_clear_line(extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " --node-index turbo"), "--node-index");

    // Ways before nodes: osmium cat keeps the order it is given.
    const auto in = data("osm/monaco-latest.osm.pbf");
    REQUIRE(run("osmium cat -O -t way " + sh_quote(in) + " -o " + sh_quote(dir + "/ways.osm.pbf")).exit_code == 0);
    REQUIRE(run("osmium cat -O -t node " + sh_quote(in) + " -o " + sh_quote(dir + "/nodes.osm.pbf")).exit_code == 0);
    REQUIRE(run("osmium cat -O " + sh_quote(dir + "/ways.osm.pbf") + " " + sh_quote(dir + "/nodes.osm.pbf") + " -o " + sh_quote(dir + "/unsorted.osm.pbf")).exit_code == 0);
    const auto o = extract_fails(sh_quote(dir + "/unsorted.osm.pbf") + " -o " + sh_quote(dir + "/out"));
    check_one_clear_line(o, dir + "/unsorted.osm.pbf");
    CHECK(o.err.find("osmium sort") != std::string::npos);
    check_no_catalog(dir + "/out");
}
