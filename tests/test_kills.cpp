// The kill suite (issue 18, docs/reliability.md): a build SIGKILLed again and again on one OUT, each
// kill landing in work in progress of a chosen stage (extract, plan, fetch, write, split, report:
// three each, told by what the process holds open, the images it wrote and the stages it
// finished in that run, and read back from OUT after the kill), and a merge of shards killed
// three times while merging; then a clean rerun, and the dataset is an uninterrupted build's
// byte for byte (images, meta pickles, meta.jsonl, every CSV, WebDataset tars, the report
// but for times, the state DB's rows) with no temporary file left. SIGINT and SIGTERM stop a
// build with one line saying how to resume, and the rerun ends the same.

#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include <csignal>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

// Small, but every stage takes several steps: fetch in batches of 4, three image/meta parts,
// val and test non-empty, WebDataset shards of 20 samples next to the CSVs.
const std::vector<std::string> flags{"--limit", "150", "--seed", "7", "--batch", "4", "--format", "both", "--split-block", "0.005",
                                     "--val-size", "10%", "--test-size", "10%", "--shard-size", "20", "--part-size", "40", "-q"};

std::string joined(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s.append(" ").append(sh_quote(a)); // not `" " + string`: GCC 12's false -Wrestrict
    return s;
}

std::vector<std::string> build_argv(const std::string& out, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", monaco().sources};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

// The uninterrupted build every other one must equal (made once).
const std::string& reference() {
    static const std::string dir = [] {
        const auto d = fresh_dir("kills-reference");
        const auto r = build(d, joined(flags));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return d;
    }();
    return dir;
}

std::string counts(const std::map<std::string, int>& by_stage) {
    std::ostringstream s;
    for (const auto& [stage, n] : by_stage) s << " " << stage << " " << n;
    return s.str();
}

} // namespace

TEST_CASE("18 SIGKILLs, three in each of extract, plan, fetch, write, split and report, then a rerun: an uninterrupted build's dataset") {
    const auto& expected = reference();
    const auto seconds = stage_seconds(expected);
    const auto out = fresh_dir("kills-build");
    const auto argv = build_argv(out);
    std::mt19937 rng(18061);
    std::map<std::string, int> landed, missed;
    std::ostringstream trace; // aimed at > landed in (jobs left to fetch)
    for (const char* stage : {"extract", "plan", "fetch", "write", "split", "report"}) {
        // Several tries a kill: a try whose run ended first, or that fell in the next stage,
        // is counted where it fell; write, split and report run again in every run.
        for (int tries = 0; landed[stage] < 3 && tries < 40; ++tries) { // write lasts ~0.1 s: under load many tries fall in split
            const auto k = kill_in_stage(argv, out, stage, rng, seconds);
            trace << " " << stage << ">" << (k.landed.empty() ? std::to_string(k.end) : k.landed);
            if (fs::exists(out + "/state.sqlite"))
                trace << "(" << sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'planned'") << ")";
            if (k.landed.empty()) {
                // It finished, or was killed after its last stage (-9): not a crash.
                CHECK_MESSAGE((k.end == 0 || k.end == -SIGKILL), "a run aimed at " << stage << " ended with " << k.end);
                ++missed[stage];
                continue;
            }
            ++landed[k.landed];
            // What the kill interrupted is on disk, in OUT, for the rerun to clear.
            if (k.landed == "extract") CHECK(fs::exists(out + "/catalog.gpkg.partial"));
            if (k.landed == "fetch") CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'planned'") > 0);
        }
    }
    MESSAGE("SIGKILLs landed by stage:" << counts(landed) << "; runs that ended before their kill:" << counts(missed));
    MESSAGE("kills, aimed at > landed in (jobs left to fetch):" << trace.str());
    int total = 0;
    for (const char* stage : {"extract", "plan", "fetch", "write", "split", "report"}) {
        CHECK_MESSAGE(landed[stage] >= 3, stage);
        total += landed[stage];
    }
    CHECK(total >= 18);

    const auto rerun = run("timeout 300" + joined(argv));
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
    check_same_build(out, expected);
}

TEST_CASE("a merge of three shards SIGKILLed three times while merging, then rerun: one machine's dataset") {
    const auto& expected = reference();
    std::vector<std::string> shards;
    for (int i = 0; i < 3; ++i) {
        shards.push_back(fresh_dir("kills-shard-" + std::to_string(i) + "-of-3"));
        const auto r = build(shards.back(), joined(flags) + " --catalog " + sh_quote(monaco().catalog) + " --shard " + std::to_string(i) + "/3");
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    }
    const auto out = fresh_dir("kills-merged");
    std::vector<std::string> argv{binary(), "merge", out};
    argv.insert(argv.end(), shards.begin(), shards.end());
    argv.push_back("-q");
    std::mt19937 rng(18062);
    // Three moments of a merge, one kill each on the same merge, in order: building the merged
    // state DB under its temporary name, placing the shards' images, and the write/split/report
    // over the whole that follows. A kill that comes too late (the merge finished: a loaded
    // machine polls late) leaves nothing to kill: the three are tried again on a fresh folder.
    int landed = 0, tries = 0;
    std::map<std::string, int> by_moment;
    const char* moments[] = {"state DB", "images", "stages"};
    for (; landed < 3 && tries < 12; ++tries) {
        const std::string moment = moments[landed];
        const auto k = kill_merge(argv, out, moment, std::uniform_int_distribution<std::size_t>(1, 30)(rng));
        if (k.landed) {
            ++landed, ++by_moment[moment];
            continue;
        }
        // Missed: the merge ended well, or was killed after it had finished (its last record written).
        CHECK_MESSAGE((k.end == 0 || (k.end == -SIGKILL && merge_finished(out))), "a merge aimed at " << moment << " ended with " << k.end);
        fresh_dir("kills-merged");
        landed = 0;
        by_moment.clear();
    }
    MESSAGE("merge SIGKILLs landed: " << landed << " of " << tries << " runs;" << counts(by_moment));
    CHECK(landed >= 3);
    CHECK(by_moment.size() == 3);
    const auto r = run("timeout 300" + joined(argv));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    check_same_build(out, expected, Compare::merged);
}

TEST_CASE("SIGTERM and SIGINT stop a build with one line saying how to resume; the rerun ends as an uninterrupted build") {
    const auto& expected = reference();
    const auto out = fresh_dir("kills-signals");
    const auto argv = build_argv(out);
    const auto err_path = out + ".stderr";
    struct Stop {
        int signal;
        const char* stage;
    };
    for (const auto& [signal, stage] : {Stop{SIGTERM, "extract"}, Stop{SIGINT, "fetch"}}) {
        CAPTURE(stage);
        const auto before = stage_rows(out);
        const pid_t pid = start_process(argv, err_path);
        const int end = kill_when(
            pid,
            [&, stage = std::string(stage)] {
                if (stage == "extract") return holds_open(pid, out + "/catalog.gpkg.partial");
                std::size_t n = 0;
                for (const auto& f : file_list(out)) n += f.starts_with("images") && f.ends_with(".jpg");
                return n >= 8;
            },
            std::chrono::seconds(120), signal);
        const auto err = read_file(err_path);
        INFO("stderr: " << err);
        CHECK(end > 0); // it exited (130 or 143), not killed by the signal
        CHECK(end != 0);
        CHECK(stage_at_kill(out, before) == stage);
        REQUIRE(lines(err).size() == 1);
        CHECK(err.find("resume") != std::string::npos);
        CHECK(err.find(out) != std::string::npos); // the command to rerun names OUT
    }
    fs::remove(err_path);
    const auto rerun = run("timeout 300" + joined(argv));
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
    check_same_build(out, expected);
}

TEST_CASE("the resume line after SIGINT is one line, whole and pasteable, and stdout keeps the summaries printed before (red-team round 27)") {
    const auto dir = fresh_dir("kills-resume-line");
    // Two long option files (over 4 KB of command together) and OUT named with a line break and an ESC.
    std::string deep = dir;
    for (int i = 0; i < 10; ++i) deep += "/" + std::string(240, static_cast<char>('a' + i));
    fs::create_directories(deep);
    write_file(deep + "/sources.toml", read_file(monaco().sources));
    write_file(deep + "/more.tsv", "amenity=fountain\tfeature\t0.6\n");
    const auto out = dir + "/o\nu\x1bt";
    const auto so = dir + "/stdout.txt", se = dir + "/stderr.txt";
    const std::string command = sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                                sh_quote(deep + "/sources.toml") + " --tags " + sh_quote("+" + deep + "/more.tsv") + " --limit 40 --batch 4";
    // SIGINT as soon as stdout holds a line (the extract's summary); a fully buffered stdout held none until the end.
    // env --default-signal: a script's background job starts with SIGINT ignored, which the build keeps (as POSIX tools do).
    const auto r = run("cd " + sh_quote(dir) + " && (env --default-signal=INT " + command + " > " + sh_quote(so) + " 2> " + sh_quote(se) +
                       " & pid=$!; for i in $(seq 600); do [ -s " + sh_quote(so) + " ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done; "
                       "kill -INT $pid 2>/dev/null; wait $pid; echo $?)");
    const auto err = read_file(se);
    INFO("stderr: " << err);
    CHECK(lines(r.out).at(0) == "130"); // stopped by SIGINT, not run to its end
    CHECK(read_file(so).find("extract: ") != std::string::npos);
    REQUIRE(lines(err).size() == 1);
    CHECK(err.find('\x1b') == std::string::npos);
    CHECK(err.find("$'") != std::string::npos);       // OUT in bash's $'...' quoting
    CHECK(err.ends_with("--limit 40 --batch 4\n")); // before: cut at 4 KB
    // The line, pasted into bash, resumes the build.
    const auto hint = err.substr(err.find("run the same command again: ") + 28);
    const auto resumed = run("cd " + sh_quote(dir) + " && PATH=" + sh_quote(fs::path(binary()).parent_path().string()) + ":$PATH bash -c " +
                             sh_quote(hint.substr(0, hint.size() - 1) + " -q")); // the line names the program skyscript-build
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(fs::exists(out + "/SkyScript_train_unfiltered.csv"));
}

TEST_CASE("SIGHUP (the terminal closed) stops a build as SIGTERM does: one line saying how to resume, and the rerun finishes (red-team round 28)") {
    const auto dir = fresh_dir("kills-sighup");
    const auto out = dir + "/out";
    const auto so = dir + "/stdout.txt", se = dir + "/stderr.txt";
    const std::string command = sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                                sh_quote(monaco().sources) + " --limit 40 --batch 4";
    // env --default-signal: a test run under nohup would pass its ignored SIGHUP on, which the build keeps.
    const auto r = run("(env --default-signal=HUP " + command + " > " + sh_quote(so) + " 2> " + sh_quote(se) + " & pid=$!; for i in $(seq 600); do [ -s " + sh_quote(so) +
                       " ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done; kill -HUP $pid 2>/dev/null; wait $pid; echo $?)");
    const auto err = read_file(se);
    INFO("stderr: " << err);
    CHECK(lines(r.out).at(0) == "129"); // stopped by SIGHUP, not run to its end
    REQUIRE(lines(err).size() == 1);    // before: nothing said
    CHECK(err.find("SIGHUP") != std::string::npos);
    CHECK(err.find("To resume") != std::string::npos);
    const auto rerun = run("timeout 300 " + command + " -q");
    CHECK_MESSAGE(rerun.exit_code == 0, rerun.err);
    CHECK(fs::exists(out + "/SkyScript_train_unfiltered.csv"));
}

TEST_CASE("a build started under nohup (SIGHUP ignored) keeps running when SIGHUP comes (code review of round 28's SIGHUP handler)") {
    const auto dir = fresh_dir("kills-nohup");
    const auto out = dir + "/out";
    const auto so = dir + "/stdout.txt";
    const std::string command = "nohup " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) +
                                " --sources " + sh_quote(monaco().sources) + " --limit 40 --batch 4";
    const auto r = run("(" + command + " > " + sh_quote(so) + " 2> " + sh_quote(dir + "/stderr.txt") + " & pid=$!; for i in $(seq 600); do [ -s " +
                       sh_quote(so) + " ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done; kill -HUP $pid 2>/dev/null; wait $pid; echo $?)");
    INFO(read_file(dir + "/stderr.txt"));
    CHECK(lines(r.out).at(0) == "0"); // run to its end, as nohup promises
    CHECK(fs::exists(out + "/SkyScript_train_unfiltered.csv"));
}
