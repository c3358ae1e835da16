// The pre-flight check: before any long work the extract estimates its memory and disk
// from the input and options and stops with one line that names the limit and what to
// change; --force goes on. Tested by limiting what the run may see: a small tmpfs mounted
// in a mount namespace of its own (disk), prlimit --as and SKYSCRIPT_MEMORY (memory).

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

// Monaco tiled 64 times (23 MB of PBF, 340K objects): large enough that its run does not
// fit the limits below, made once per test run.
std::string tiled_monaco() {
    static const std::string path = [] {
        const auto dir = fresh_dir("preflight_input");
        const auto out = dir + "/monaco-64x.osm.pbf";
        const auto tiler = (fs::path(binary()).parent_path() / "bench-tile-input").string();
        REQUIRE(run(sh_quote(tiler) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " 64 " + sh_quote(out)).exit_code == 0);
        return out;
    }();
    return path;
}

std::string extract_command(const std::string& args) {
    return sh_quote(binary()) + " extract " + sh_quote(tiled_monaco()) + " " + args;
}

CommandResult extract(const std::string& prefix, const std::string& args) { return run(prefix + extract_command(args)); }

// One line naming what to change and --force.
void check_stopped(const CommandResult& r, const std::vector<std::string>& must_say) {
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err).size() == 1);
    for (const auto& s : must_say) CHECK_MESSAGE(r.err.find(s) != std::string::npos, "missing: " << s);
    CHECK(r.err.find("--force") != std::string::npos);
}

void check_no_catalog(const std::string& out) {
    CHECK_FALSE(fs::exists(out + "/catalog.gpkg"));
    CHECK_FALSE(fs::exists(out + "/catalog.gpkg.partial"));
}

} // namespace

TEST_CASE("an OUT without room for the catalog stops the run before it reads; --force goes on") {
    const auto dir = fresh_dir("preflight_out_disk");
    // What the run left in OUT, listed before the tmpfs goes.
    auto then_list = [](const std::string& out) { return "; s=$?; ls -A " + sh_quote(out) + " 2>/dev/null; exit $s"; };
    // The catalog takes 98 MB (+ 8 MB of R*Tree boxes while it is built): on 60 MB the run
    // would fail on a full disk after reading everything.
    const auto tiny = dir + "/tiny";
    const auto stopped = on_small_disk(tiny, "60M", extract_command("-q -o " + sh_quote(tiny + "/out")) + then_list(tiny + "/out"));
    check_stopped(stopped, {"-o " + tiny + "/out", "catalog needs about", "60 MB free", "larger disk"});
    CHECK(stopped.out.empty());
    // The estimate (5 x 23 MB) errs on the safe side: on 110 MB it stops too, and --force
    // goes on and fits.
    const auto small = dir + "/small";
    check_stopped(on_small_disk(small, "110M", extract_command("-q -o " + sh_quote(small + "/out")) + then_list(small + "/out")),
                  {"-o " + small + "/out"});
    const auto forced = on_small_disk(small, "110M", extract_command("--force -o " + sh_quote(small + "/out")) +
                                                         " >/dev/null && sqlite3 " + sh_quote(small + "/out/catalog.gpkg") +
                                                         " 'SELECT count(*) FROM objects'");
    INFO(forced.err);
    CHECK(forced.exit_code == 0);
    CHECK(forced.err.find("warning (--force): -o " + small + "/out") != std::string::npos);
    REQUIRE_FALSE(forced.out.empty());
    CHECK(std::stoll(forced.out) > 300000);
    // --force on a disk the catalog cannot fit: the write of its pages fails in one line naming
    // the file and the cause, and no catalog is left behind.
    const auto full = on_small_disk(tiny, "60M", extract_command("--force -q -o " + sh_quote(tiny + "/out")) + then_list(tiny + "/out"));
    INFO(full.err);
    CHECK(full.exit_code == 1);
    CHECK(lines(full.err).size() == 1);
    CHECK(full.err.find(tiny + "/out/catalog.gpkg.partial: cannot write (No space left on device)") != std::string::npos);
    CHECK(full.out.find("catalog.gpkg") == std::string::npos);
}

TEST_CASE("a file-backed node index that does not fit in --tmp-dir stops the run; OUT is left alone") {
    const auto dir = fresh_dir("preflight_tmp_disk");
    const auto small = dir + "/small";
    const auto out = dir + "/out";
    const auto sparse = on_small_disk(small, "8M", extract_command("-q --node-index sparse_file_array --tmp-dir " + sh_quote(small) + " -o " + sh_quote(out)));
    check_stopped(sparse, {"--node-index sparse_file_array", "--tmp-dir " + small, "8 MB free"});
    check_no_catalog(out);
    // Tiled ids are large: a dense index would take TBs, and the message offers the sparse one.
    const auto dense = on_small_disk(small, "8M", extract_command("-q --node-index dense_file_array --tmp-dir " + sh_quote(small) + " -o " + sh_quote(out)));
    check_stopped(dense, {"--node-index dense_file_array", "8 bytes x the largest node id", "--node-index sparse_file_array --tmp-dir"});
    check_no_catalog(out);
    // With --force, the workers' index (made ready before the read, its disk reserved first)
    // stops the run in one line naming --tmp-dir, not the input, nor a SIGBUS mid-way.
    const auto forced = on_small_disk(small, "8M", extract_command("-q --force --threads 2 --node-index dense_file_array --tmp-dir " + sh_quote(small) + " -o " + sh_quote(out)));
    INFO(forced.err);
    CHECK(forced.exit_code == 1);
    CHECK(lines(forced.err).size() == 1);
    CHECK(forced.err.find(small + ": no room for the node index") != std::string::npos);
    check_no_catalog(out);
    // A small input (Monaco, 0.5 MB; red-team round 36): the sparse index's file starts at 16 MiB
    // and grows by 16 MiB, which the estimate ("about 1 MB") had not said: the run was let go and
    // failed naming the input ("Could not resize file"), not --tmp-dir.
    const auto monaco = sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q --node-index sparse_file_array --tmp-dir " +
                        sh_quote(small) + " -o " + sh_quote(out);
    check_stopped(on_small_disk(small, "8M", monaco), {"--node-index sparse_file_array", "--tmp-dir " + small});
    check_no_catalog(out);
    const auto monaco_forced = on_small_disk(small, "8M", monaco + " --force");
    INFO(monaco_forced.err);
    CHECK(monaco_forced.exit_code == 1);
    CHECK(lines(monaco_forced.err).size() == 1);
    CHECK(monaco_forced.err.find(small + ": no room left in the extract's scratch folder (--tmp-dir; OUT when not given) for the node index (--node-index sparse_file_array)") !=
          std::string::npos);
    check_no_catalog(out);
    // A --tmp-dir with room: the index lives there (nameless, so nothing is left), the run works.
    const auto fine = extract("", "-q --node-index sparse_file_array --tmp-dir " + sh_quote(dir) + " -o " + sh_quote(out));
    INFO(fine.err);
    CHECK(fine.exit_code == 0);
    CHECK(sql_column(out + "/catalog.gpkg", "SELECT value FROM skyscript_meta WHERE key = 'node_index'") ==
          std::vector<std::string>{"sparse_file_array"});
    const auto missing = extract("", "-q --tmp-dir " + sh_quote(dir + "/nowhere") + " -o " + sh_quote(out));
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("--tmp-dir " + dir + "/nowhere: no such folder") != std::string::npos);
}

TEST_CASE("an address-space limit the in-memory index cannot fit stops the run with the file-backed alternative") {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer reserves terabytes of address space for its shadow memory, so no
    // binary of an ASan build starts under `prlimit --as`: this case runs in the release build.
    MESSAGE("not run under AddressSanitizer: its shadow memory cannot start under an address-space limit");
    return;
#endif
    const auto dir = fresh_dir("preflight_memory");
    const auto out = dir + "/out";
    // Under 400 MB of address space this run dies of bad_alloc in pass 2 (it maps ~480 MB).
    const auto r = extract("prlimit --as=419430400 ", "-q --node-index flex_mem -o " + sh_quote(out));
    check_stopped(r, {"--node-index flex_mem", "address-space limit", "--node-index sparse_file_array --tmp-dir"});
    check_no_catalog(out);
    // With room it runs (on one core: the preflight counts a malloc arena of 64 MB per usable
    // core against the limit, so on a machine of a dozen cores 1 GB would not be room).
    CHECK(extract("taskset -c 0 prlimit --as=1073741824 ", "-q --node-index flex_mem -o " + sh_quote(out)).exit_code == 0);
}

TEST_CASE("auto takes a file-backed index when flex_mem would not fit the memory the run may use") {
    const auto dir = fresh_dir("preflight_auto");
    const auto out = dir + "/out";
    auto index_of = [&] { return sql_column(out + "/catalog.gpkg", "SELECT value FROM skyscript_meta WHERE key = 'node_index'"); };
    // SKYSCRIPT_MEMORY stands for a smaller machine: flex_mem needs ~176 MB here, a file-backed index ~131 MB.
    const auto small = extract("SKYSCRIPT_MEMORY=150M ", "-q --tmp-dir " + sh_quote(dir) + " -o " + sh_quote(out));
    INFO(small.err);
    REQUIRE(small.exit_code == 0);
    CHECK(index_of() == std::vector<std::string>{"sparse_file_array"}); // the tiled ids make dense TBs
    REQUIRE(extract("SKYSCRIPT_MEMORY=4G ", "-q -o " + sh_quote(out)).exit_code == 0);
    CHECK(index_of() == std::vector<std::string>{"flex_mem"});
    // Too little even for a file-backed index: the message says so; --force tries anyway.
    check_stopped(extract("SKYSCRIPT_MEMORY=64M ", "-q -o " + sh_quote(dir + "/none")), {"SKYSCRIPT_MEMORY", "smaller region"});
    check_no_catalog(dir + "/none");
    const auto forced = extract("SKYSCRIPT_MEMORY=64M ", "--force -o " + sh_quote(out));
    CHECK(forced.exit_code == 0);
    CHECK(forced.err.find("warning (--force)") != std::string::npos);
    const auto bad = extract("SKYSCRIPT_MEMORY=lots ", "-q -o " + sh_quote(out));
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("SKYSCRIPT_MEMORY") != std::string::npos);
}
