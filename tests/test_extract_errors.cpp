// Bad input: one clear line naming the file or argument, non-zero exit, no crash,
// no half-written catalog, and an earlier good catalog left untouched.

#include "test_support.hpp"

#include <doctest/doctest.h>
#include <protozero/pbf_reader.hpp>

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

TEST_CASE("a run that keeps nothing fails and says why; a lat,lon --bbox gets the W,S,E,N hint") {
    const auto dir = fresh_dir("errors_empty");
    const auto monaco = sh_quote(data("osm/monaco-latest.osm.pbf"));
    // Monaco's box as lat,lon: valid numbers, a box in the Gulf of Guinea.
    auto o = extract_fails(monaco + " --bbox 43.72,7.40,43.75,7.44 -q -o " + sh_quote(dir + "/swapped"));
    check_one_clear_line(o, "--bbox 43.72,7.4,43.75,7.44");
    CHECK(o.code == 1);
    CHECK(o.err.find("no object") != std::string::npos);
    CHECK(o.err.find("W,S,E,N") != std::string::npos);
    CHECK(o.err.find("--bbox 7.4,43.72,7.44,43.75") != std::string::npos);
    check_no_catalog(dir + "/swapped");
    // The suggested box is the one that works.
    CHECK(run(sh_quote(binary()) + " extract " + monaco + " --bbox 7.4,43.72,7.44,43.75 -q -o " + sh_quote(dir + "/fixed")).exit_code == 0);

    // A right-way-round box over the sea beside Monaco: nothing there, and no swap would help.
    o = extract_fails(monaco + " --bbox 7.46,43.60,7.47,43.61 -q -o " + sh_quote(dir + "/sea"));
    check_one_clear_line(o, "--bbox 7.46,43.6,7.47,43.61");
    CHECK(o.err.find("did you mean") == std::string::npos);
    check_no_catalog(dir + "/sea");
    // The bare command, whose state DB records its options: the refused box is not OUT's. OUT is
    // not left behind, and the run without the box extracts (before: OUT kept the box, and the
    // corrected run was refused for the box it left out).
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"X\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 1\nyear = 2020\n");
    const auto bare = run(sh_quote(binary()) + " " + monaco + " --bbox 7.46,43.60,7.47,43.61 -q --sources " + sh_quote(dir + "/sources.toml") +
                          " -o " + sh_quote(dir + "/bare"));
    check_one_clear_line({bare.exit_code, bare.err}, "--bbox 7.46,43.6,7.47,43.61");
    CHECK_FALSE(fs::exists(dir + "/bare"));
    const auto corrected = run(sh_quote(binary()) + " extract " + monaco + " -q -o " + sh_quote(dir + "/bare"));
    CHECK_MESSAGE(corrected.exit_code == 0, corrected.err);
    // A run that stopped before its first stage finished for another reason (here a cut input;
    // a kill hours into a planet's read) records options no work was made with: the next run
    // without --bbox is not held to its box (before: refused for the box it left out).
    const auto input = dir + "/in.osm.pbf";
    const auto whole = read_file(data("osm/monaco-latest.osm.pbf"));
    write_file(input, whole.substr(0, whole.size() * 6 / 10));
    const auto cut = run(sh_quote(binary()) + " " + sh_quote(input) + " --bbox 7.46,43.60,7.47,43.61 -q --sources " + sh_quote(dir + "/sources.toml") +
                         " -o " + sh_quote(dir + "/cut"));
    CHECK(cut.exit_code == 1);
    REQUIRE(fs::exists(dir + "/cut/state.sqlite"));
    write_file(input, whole);
    const auto again = run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(input) + " -q --attempts 1 --limit 3 --sources " +
                           sh_quote(dir + "/sources.toml") + " -o " + sh_quote(dir + "/cut")); // its xyz server is not there: no image
    INFO(again.err);
    CHECK(again.err.find("--bbox") == std::string::npos);
    CHECK(fs::exists(dir + "/cut/catalog.gpkg"));
    CHECK(sql_column(dir + "/cut/state.sqlite", "SELECT value FROM options WHERE key = 'bbox'") == std::vector<std::string>{""});

    // A tag list nothing in the input carries.
    write_file(dir + "/none.tsv", "man_made=spaceport\tfeature\t10\n");
    o = extract_fails(monaco + " --tags " + sh_quote(dir + "/none.tsv") + " -q -o " + sh_quote(dir + "/none"));
    check_one_clear_line(o, "no catalog object");
    check_no_catalog(dir + "/none");

    // A polygon given as lat,lon.
    write_file(dir + "/swapped.geojson",
               R"({"type":"Polygon","coordinates":[[[43.72,7.40],[43.75,7.40],[43.75,7.44],[43.72,7.44],[43.72,7.40]]]})");
    o = extract_fails(monaco + " --polygon " + sh_quote(dir + "/swapped.geojson") + " -q -o " + sh_quote(dir + "/poly"));
    check_one_clear_line(o, dir + "/swapped.geojson");
    CHECK(o.err.find("lon,lat") != std::string::npos);
    check_no_catalog(dir + "/poly");
}

TEST_CASE("--node-index accepts exactly the indexes --help lists") {
    const auto dir = fresh_dir("errors_node_index");
    const auto help = run(sh_quote(binary()) + " extract --help").out;
    for (const std::string index : {"sparse_mem_array", "dense_mmap_array", "sparse_mmap_array", "dense_mem_array", "flex_mem,x"}) {
        INFO(index);
        CHECK(help.find(index) == std::string::npos);
        const auto o = extract_fails(sh_quote(data("osm/monaco-latest.osm.pbf")) + " --node-index " + sh_quote(index) + " -o " + sh_quote(dir + "/out"));
        check_one_clear_line(o, "--node-index");
        CHECK(o.code == 2);
        check_no_catalog(dir + "/out");
    }
    // The bare command (every stage) checks it too, before extracting.
    const auto bare = run(sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " --node-index sparse_mem_array -o " + sh_quote(dir + "/bare"));
    check_one_clear_line({bare.exit_code, bare.err}, "--node-index");
    check_no_catalog(dir + "/bare");
    // --help says what a dense index costs.
    CHECK(help.find("8 bytes x the largest node id") != std::string::npos);
}

TEST_CASE("a dense index is sized from the largest node id, not the file's size, before anything is written") {
    const auto dir = fresh_dir("errors_dense_size");
    // Two nodes, a 200-byte file: but a dense index up to id 10^13 is 80 TB.
    write_file(dir + "/big-ids.opl", "n1 v1 x7.42 y43.73 Tbuilding=yes\nn10000000000000 v1 x7.421 y43.731 Tamenity=bench\n");
    REQUIRE(run("osmium cat -O " + sh_quote(dir + "/big-ids.opl") + " -o " + sh_quote(dir + "/big-ids.osm.pbf")).exit_code == 0);
    const auto out = dir + "/out";
    // A file-size limit: were the index created anyway, the run would fail on it, not fill the disk.
    const auto r = run("ulimit -f 1048576; " + sh_quote(binary()) + " extract " + sh_quote(dir + "/big-ids.osm.pbf") +
                       " --node-index dense_file_array -q -o " + sh_quote(out));
    check_one_clear_line({r.exit_code, r.err}, "--node-index dense_file_array");
    CHECK(r.err.find("10000000000000") != std::string::npos);
    CHECK(r.err.find("8 bytes x the largest node id") != std::string::npos);
    check_no_catalog(out);
    if (fs::exists(out))
        for (const auto& e : fs::directory_iterator(out)) // the lock is kept: it is OUT's, not the run's (build_lock.hpp)
            if (e.path().filename() != "build.lock") CHECK_MESSAGE(false, "left behind: " << e.path());
    // The same file with a sparse index works.
    CHECK(run(sh_quote(binary()) + " extract " + sh_quote(dir + "/big-ids.osm.pbf") + " --node-index sparse_file_array -q -o " + sh_quote(out)).exit_code == 0);
}

TEST_CASE("a file-backed node index leaves nothing behind, even when the run is killed") {
    const auto dir = fresh_dir("errors_index_killed");
    const auto out = dir + "/out";
    // Renumbered so the dense index is small; the run is stopped (SIGSTOP) once it holds its
    // index open (pass 2), the folder is listed, then the run is killed (SIGKILL).
    const auto input = dir + "/renumbered.osm.pbf";
    REQUIRE(run("osmium renumber -O " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(input)).exit_code == 0);
    for (const std::string index : {"dense_file_array", "sparse_file_array"}) {
        INFO(index);
        // Pass 2 lasts a fraction of a second: a stop that comes as it ends is tried again.
        CommandResult r;
        for (int attempt = 0; attempt < 10; ++attempt) {
            fs::remove_all(out);
            r = run(sh_quote(binary()) + " extract " + sh_quote(input) + " --node-index " + index + " -o " + sh_quote(out) +
                    " 2>/dev/null & pid=$!; i=0; "
                    "index_open() { ls -l /proc/$pid/fd 2>/dev/null | grep -v -e partial -e build.lock | grep -c " + sh_quote(out + "/") + "; }; "
                    // a run that has ended (a zombie has no open files) is not waited on for 4000 rounds
                    "running() { ls /proc/$pid/fd 2>/dev/null | grep -q .; }; "
                    "while [ $i -lt 4000 ] && running && [ \"$(index_open)\" != 1 ]; do sleep 0.002; i=$((i+1)); done; "
                    "kill -STOP $pid; index_open; ls -a " + sh_quote(out) +
                    "; kill -KILL $pid; wait $pid; ls -a " + sh_quote(out));
            if (!r.out.empty() && lines(r.out)[0] == "1") break;
        }
        INFO(r.out);
        REQUIRE(lines(r.out).size() > 1);
        CHECK(lines(r.out)[0] == "1"); // stopped while the index was open
        CHECK(r.out.find("catalog.gpkg.partial") != std::string::npos);
        CHECK(r.out.find("node-index") == std::string::npos);
        CHECK(r.out.find("#") == std::string::npos);
        // The next run starts clean and leaves only the catalog.
        REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(input) + " --node-index " + index + " -q -o " + sh_quote(out)).exit_code == 0);
        for (const auto& e : fs::directory_iterator(out)) CHECK((e.path().filename() == "catalog.gpkg" || e.path().filename() == "build.lock"));
    }
}

TEST_CASE("SIGTERM or SIGHUP mid-run leaves no partial catalog and no index") {
    const auto dir = fresh_dir("errors_signalled");
    const auto out = dir + "/out";
    const auto input = dir + "/renumbered.osm.pbf";
    REQUIRE(run("osmium renumber -O " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(input)).exit_code == 0);
    // (SIGINT is handled the same way, but sh starts background jobs with it ignored.)
    for (const std::string sig : {"TERM", "HUP"}) {
        INFO(sig);
        // Stopped once the index is open (pass 2), signalled, continued: the signal ends it.
        // A stop that comes as pass 2 ends (it lasts a fraction of a second) is tried again.
        CommandResult r;
        for (int attempt = 0; attempt < 10; ++attempt) {
            fs::remove_all(out);
            r = run(sh_quote(binary()) + " extract " + sh_quote(input) + " --node-index sparse_file_array -o " + sh_quote(out) +
                    " 2>/dev/null & pid=$!; i=0; "
                    "index_open() { ls -l /proc/$pid/fd 2>/dev/null | grep -v -e partial -e build.lock | grep -c " + sh_quote(out + "/") + "; }; "
                    // a run that has ended (a zombie has no open files) is not waited on for 4000 rounds
                    "running() { ls /proc/$pid/fd 2>/dev/null | grep -q .; }; "
                    "while [ $i -lt 4000 ] && running && [ \"$(index_open)\" != 1 ]; do sleep 0.002; i=$((i+1)); done; "
                    "kill -STOP $pid; index_open; ls " + sh_quote(out) + "; kill -" + sig + " $pid; kill -CONT $pid; wait $pid; echo \"status $?\"; ls -a " + sh_quote(out));
            if (!r.out.empty() && lines(r.out)[0] == "1") break;
        }
        INFO(r.out);
        CHECK(lines(r.out)[0] == "1"); // stopped while the index was open
        CHECK(r.out.find("catalog.gpkg.partial\n") != std::string::npos);
        CHECK(r.out.find("status 0") == std::string::npos);
        const auto after = r.out.substr(r.out.find("status"));
        CHECK(after.find("catalog") == std::string::npos);
        CHECK(after.find("node-index") == std::string::npos);
    }
}

TEST_CASE("an input cut or rewritten while the extract reads it (a download started again over it) is refused, not taken for the whole") {
    const auto dir = fresh_dir("errors_input_cut");
    const auto out = dir + "/out";
    const auto input = dir + "/renumbered.osm.pbf";
    // Cut to nothing (what the reader has not read yet is gone: it ends as at a file's end, or
    // fails on a blob cut short), or written again in place (touch: the same bytes, a new time).
    for (const std::string change : {": >", "touch -d '+2 seconds'"}) {
        INFO(change);
        // As the kill tests above: stopped once its index is open (pass 2), the input changed, continued.
        CommandResult r;
        for (int attempt = 0; attempt < 10; ++attempt) {
            fs::remove_all(out);
            REQUIRE(run("osmium renumber -O " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(input)).exit_code == 0);
            r = run("sleep 0.01; " + sh_quote(binary()) + " extract " + sh_quote(input) + " --node-index sparse_file_array -q -o " + sh_quote(out) +
                    " 2>" + sh_quote(dir + "/err") + " & pid=$!; i=0; "
                    "index_open() { ls -l /proc/$pid/fd 2>/dev/null | grep -v -e partial -e build.lock | grep -c " + sh_quote(out + "/") + "; }; "
                    "running() { ls /proc/$pid/fd 2>/dev/null | grep -q .; }; "
                    "while [ $i -lt 4000 ] && running && [ \"$(index_open)\" != 1 ]; do sleep 0.002; i=$((i+1)); done; "
                    "kill -STOP $pid; index_open; " + change + " " + sh_quote(input) + "; kill -CONT $pid; wait $pid; echo \"status $?\"");
            if (!r.out.empty() && lines(r.out)[0] == "1") break;
        }
        INFO(r.out);
        REQUIRE(lines(r.out).size() == 2);
        CHECK(lines(r.out)[0] == "1"); // stopped while the index was open
        CHECK(lines(r.out)[1] == "status 1"); // before: 0 after a touch, and after some cuts (a catalog of what had been read)
        const auto err = read_file(dir + "/err");
        INFO(err);
        CHECK(lines(err).size() == 1);
        CHECK(err.find(input + ": changed while it was read") != std::string::npos); // also where the cut made the read fail
        check_no_catalog(out);
    }
}

namespace {

// Where each blob of a PBF ends: a 4-byte big-endian length, a BlobHeader (its field 3 the
// blob's size), the blob.
std::vector<std::size_t> blob_ends(const std::string& pbf) {
    std::vector<std::size_t> ends;
    for (std::size_t at = 0; at + 4 <= pbf.size();) {
        const auto* b = reinterpret_cast<const unsigned char*>(pbf.data() + at);
        const std::size_t header_size = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3];
        protozero::pbf_reader header{pbf.data() + at + 4, header_size};
        std::size_t data_size = 0;
        while (header.next()) {
            if (header.tag() == 3) data_size = static_cast<std::size_t>(header.get_int32());
            else header.skip();
        }
        at += 4 + header_size + data_size;
        ends.push_back(at);
    }
    return ends;
}

} // namespace

TEST_CASE("a PBF whose blobs stop at zeros (a download preallocated and left unfinished) or at stray bytes is refused, not taken for the whole") {
    const auto dir = fresh_dir("errors_unread_part");
    const auto good = read_file(data("osm/liechtenstein-2013-08-03.osm.pbf"));
    const auto ends = blob_ends(good);
    REQUIRE(ends.size() > 10);
    REQUIRE(ends[ends.size() / 2] + (1 << 16) < good.size());
    REQUIRE(ends.back() == good.size());
    // libosmium reads a blob length of 0, or fewer than 4 bytes after a blob, as the file's
    // end: before, each of these made a catalog (of the objects before the zeros) and exit 0.
    const std::size_t hole = ends[ends.size() / 2]; // a blob boundary: the ways and relations after it lost
    const std::vector<std::pair<std::string, std::string>> inputs{
        {"zero-tail", good + std::string(1 << 20, '\0')},
        {"zero-hole", good.substr(0, hole) + std::string(1 << 16, '\0') + good.substr(hole + (1 << 16))}, // same size: a segment missed
        {"stray-bytes", good + "abc"},
    };
    for (const auto& [name, bytes] : inputs) {
        INFO(name);
        REQUIRE(bytes.size() >= good.size());
        const auto input = dir + "/" + name + ".osm.pbf";
        write_file(input, bytes);
        const auto out = dir + "/out-" + name;
        const auto o = extract_fails(sh_quote(input) + " -q -o " + sh_quote(out));
        check_one_clear_line(o, input + ": its OSM data stops");
        const std::string stop = name == "stray-bytes" ? std::to_string(good.size()) : std::to_string(name == "zero-hole" ? hole : good.size());
        CHECK(o.err.find("from byte " + stop + " of " + std::to_string(bytes.size())) != std::string::npos);
        CHECK(o.err.find(name == "stray-bytes" ? "are not OSM blobs" : "a download left unfinished?") != std::string::npos);
        check_no_catalog(out);
        // Sampled in the read (two reads of the file) and `tags --stats` alike.
        check_one_clear_line(extract_fails(sh_quote(input) + " --read-sample on -q -o " + sh_quote(out)), input + ": its OSM data stops");
        check_no_catalog(out);
        const auto stats = run(sh_quote(binary()) + " tags --stats " + sh_quote(input));
        check_one_clear_line({stats.exit_code, stats.err}, input + ": its OSM data stops");
    }
}

TEST_CASE("--threads beyond what the system lets the run start: one line, not an abort") {
#if defined(__SANITIZE_ADDRESS__)
    MESSAGE("not run under AddressSanitizer: its shadow memory cannot start under an address-space limit");
    return;
#endif
    const auto dir = fresh_dir("errors_threads");
    // 8 MB stacks for 400 workers (3.2 GB) under a 2 GB address space: a thread cannot be made.
    // On one core, so that the preflight's allowance for each core's malloc arena leaves room
    // for the run to start on a machine of many cores.
    const auto r = run("ulimit -s 8192; taskset -c 0 prlimit --as=2000000000 " + sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) +
                       " --threads 400 -q -o " + sh_quote(dir + "/out"));
    INFO(r.err);
    CHECK(r.exit_code == 1); // before: 134, "terminate called without an active exception"
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.find("cannot start worker thread") != std::string::npos);
    CHECK(r.err.find("--threads") != std::string::npos);
    check_no_catalog(dir + "/out");
}
