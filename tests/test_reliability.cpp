// Reliability promises of docs/reliability.md that are not about the network: one build
// per OUT (an advisory lock the kernel drops), resume that trusts the disk (deleted images,
// meta files and meta.jsonl are made again, and only those), and sources whose content
// changed under a build refused in one line.

#include "pipeline/common/hidden_rules_file.hpp"
#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <csignal>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> build_argv(const std::string& out, const std::string& sources, const std::vector<std::string>& extra) {
    std::vector<std::string> argv{binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", sources};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::string shell(const std::vector<std::string>& argv) {
    std::string cmd = "timeout 300";
    for (const auto& a : argv) cmd.append(" ").append(sh_quote(a)); // not `" " + ...`: GCC 12 -Wrestrict
    return cmd;
}

// Waits until OUT/build.lock names `pid` (the build holds the lock and said who it is) and
// the build has finished its extract (its state DB made: a build stopped while it turns the
// new DB to WAL would keep readers out, which no real build does for long).
bool lock_names(const std::string& out, pid_t pid) {
    for (int i = 0; i < 6000; ++i) {
        std::error_code ec;
        if (fs::exists(out + "/build.lock", ec) && read_file(out + "/build.lock").starts_with("process " + std::to_string(pid) + " ") &&
            fs::exists(out + "/state.sqlite", ec)) {
            try {
                if (sql_int(out + "/state.sqlite", "SELECT count(*) FROM stages WHERE stage = 'extract'") == 1) return true;
            } catch (const std::exception&) { // not made yet
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// DIR/sources.toml: one gdal source, the Monaco rendering as of 2021; its path.
std::string monaco_sources(const std::string& dir) {
    const auto path = dir + "/sources.toml";
    write_file(path, "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + monaco().raster + "\"\nyear = 2021\n");
    return path;
}

// One error line on stderr, and what it says.
void check_one_line(const CommandResult& r, const std::string& contains) {
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.find(contains) != std::string::npos);
}

} // namespace

TEST_CASE("one build per OUT: a second build, stage or merge stops at once naming the holder; status and report still read") {
    const auto& m = monaco();
    const auto out = fresh_dir("reliability-lock");
    const auto argv = build_argv(out, m.sources, {"--limit", "40", "-q"});
    const pid_t holder = start_process(argv);
    REQUIRE(lock_names(out, holder));
    // Stopped while it holds the lock: every writer below meets a running build, whatever the timing.
    REQUIRE(::kill(holder, SIGSTOP) == 0);
    const std::string holder_text = "process " + std::to_string(holder);
    const auto started = std::chrono::steady_clock::now();
    check_one_line(run(shell(argv)), holder_text);
    check_one_line(run(shell(argv)), "another build is running on this folder");
    check_one_line(run(shell({binary(), "extract", data("osm/monaco-latest.osm.pbf"), "-o", out, "-q"})), holder_text);
    const auto shard = fresh_dir("reliability-lock-shard");
    check_one_line(run(shell({binary(), "merge", out, shard, "-q"})), holder_text);
    for (const char* stage : {"plan", "fetch", "write", "split", "benchmarks"}) check_one_line(run(shell({binary(), stage, out, "-q"})), holder_text);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20)); // at once, not after a wait
    const auto status = run(shell({binary(), "status", out}));
    CHECK_MESSAGE(status.exit_code == 0, status.err);
    REQUIRE(::kill(holder, SIGCONT) == 0);
    REQUIRE(wait_exit(holder) == 0);
    // The holder's build is whole: as many CSV rows as images.
    const auto rows = lines(read_file(out + "/SkyScript_train_unfiltered.csv")).size() + lines(read_file(out + "/SkyScript_val.csv")).size() +
                      lines(read_file(out + "/SkyScript_test.csv")).size() - 3;
    std::size_t images = 0;
    for (const auto& f : fs::recursive_directory_iterator(out)) images += f.path().extension() == ".jpg";
    CHECK(images > 0);
    CHECK(rows == images);
    const auto report = run(shell({binary(), "report", out, "-q"}));
    CHECK_MESSAGE(report.exit_code == 0, report.err);
}

TEST_CASE("one build per OUT: two builds started together, one builds and the other stops; a SIGKILLed holder leaves no stale lock") {
    const auto& m = monaco();
    const auto out = fresh_dir("reliability-lock-race");
    const auto argv = build_argv(out, m.sources, {"--limit", "30", "-q"});
    auto a = std::async(std::launch::async, [&] { return run(shell(argv)); });
    auto b = std::async(std::launch::async, [&] { return run(shell(argv)); });
    const auto ra = a.get(), rb = b.get();
    INFO(ra.err << "\n" << rb.err);
    CHECK(((ra.exit_code == 0) + (rb.exit_code == 0)) == 1);
    const auto& loser = ra.exit_code == 0 ? rb : ra;
    check_one_line(loser, "another build is running on this folder");

    // A holder killed with SIGKILL: the next run takes the lock at once and finishes.
    const auto out2 = fresh_dir("reliability-lock-killed");
    const auto argv2 = build_argv(out2, m.sources, {"--limit", "30", "-q"});
    const pid_t holder = start_process(argv2);
    REQUIRE(lock_names(out2, holder));
    ::kill(holder, SIGKILL);
    CHECK(wait_exit(holder) == -SIGKILL);
    const auto rerun = run(shell(argv2));
    CHECK_MESSAGE(rerun.exit_code == 0, rerun.err);
}

TEST_CASE("resume trusts the disk: deleted, cut or replaced images and meta files, and meta.jsonl, are made again, and only those") {
    const auto& m = monaco();
    const auto out = fresh_dir("reliability-missing");
    const auto argv = build_argv(out, m.sources, {"--limit", "60"});
    const auto first = run(shell(argv));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);
    const auto val_before = read_file(out + "/SkyScript_val.csv"), test_before = read_file(out + "/SkyScript_test.csv");
    std::vector<std::string> images, metas;
    for (const auto& [name, bytes] : before) {
        if (name.ends_with(".jpg")) images.push_back(name);
        if (name.ends_with(".pickle")) metas.push_back(name);
    }
    REQUIRE(images.size() >= 10);
    // Two images (one with its pickle kept), another job's pickle, meta.jsonl.
    const std::string gone_image1 = images[2], gone_image2 = images[7];
    std::string gone_meta = metas[4];
    REQUIRE(gone_meta.substr(gone_meta.find('/')) != gone_image1.substr(gone_image1.find('/')));
    struct stat untouched_before{};
    REQUIRE(::stat((out + "/" + images[5]).c_str(), &untouched_before) == 0);
    for (const auto& f : {gone_image1, gone_image2, gone_meta, std::string("meta.jsonl")}) REQUIRE(fs::remove(out + "/" + f));
    // One image cut short (a copy that stopped), one replaced by a larger file: a trainer would
    // fail on the one and learn from the other.
    const auto& cut = before.at(images[0]);
    write_file(out + "/" + images[0], cut.substr(0, cut.size() / 2));
    write_file(out + "/" + images[9], before.at(images[9]) + "trailing bytes");
    const auto& pickle = before.at(metas[6]);
    write_file(out + "/" + metas[6], pickle.substr(0, pickle.size() - 1)); // a pickle without its STOP

    const auto again = run(shell(argv));
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    INFO(again.out);
    CHECK(again.out.find("fetch: 4 images, 0 failed") != std::string::npos);
    CHECK(again.out.find("4 images and 2 meta files of finished jobs were missing on disk") != std::string::npos);
    CHECK(again.out.find("write: 6 meta files written now") != std::string::npos);
    const auto after = dataset_files(out);
    CHECK(after.size() == before.size());
    for (const auto& [name, bytes] : before) {
        const auto it = after.find(name);
        CHECK_MESSAGE(it != after.end(), name);
        if (it != after.end()) CHECK_MESSAGE(it->second == bytes, name);
    }
    CHECK(read_file(out + "/SkyScript_val.csv") == val_before);
    CHECK(read_file(out + "/SkyScript_test.csv") == test_before);
    // Only the missing ones were redone: another image is the very same file.
    struct stat untouched_after{};
    REQUIRE(::stat((out + "/" + images[5]).c_str(), &untouched_after) == 0);
    CHECK(untouched_after.st_ino == untouched_before.st_ino);
    CHECK(untouched_after.st_mtim.tv_nsec == untouched_before.st_mtim.tv_nsec);

    // `write OUT` alone: a deleted pickle is written again; a deleted image sends its job back to fetch,
    // and no CSV row names a file that is not there.
    REQUIRE(fs::remove(out + "/" + metas[1]));
    REQUIRE(fs::remove(out + "/" + images[3]));
    const auto write = run(shell({binary(), "write", out}));
    CHECK_MESSAGE(write.exit_code == 0, write.err);
    CHECK(fs::exists(out + "/" + metas[1]));
    CHECK(write.err.find("1 images of finished jobs are missing on disk") != std::string::npos);
    const auto split = run(shell({binary(), "split", out, "-q"}));
    CHECK_MESSAGE(split.exit_code == 0, split.err);
    for (const char* csv : {"SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv"})
        for (const auto& line : lines(read_file(out + "/" + csv)))
            if (line.starts_with("images")) CHECK_MESSAGE(fs::exists(out + "/" + line.substr(0, line.find(','))), line);
    const auto last = run(shell(argv));
    CHECK_MESSAGE(last.exit_code == 0, last.err);
    CHECK(dataset_files(out) == before);
    // Nothing touched since: nothing redone, no refetch loop.
    const auto clean = run(shell(argv));
    CHECK_MESSAGE(clean.exit_code == 0, clean.err);
    CHECK(clean.out.find("missing on disk") == std::string::npos);
    CHECK(clean.out.find("fetch: 0 images, 0 failed") != std::string::npos);
    // Jobs an older version finished have no sizes recorded: checked for presence alone, nothing redone.
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " 'UPDATE jobs SET image_bytes = NULL, meta_bytes = NULL'").exit_code == 0);
    const auto older = run(shell(argv));
    CHECK_MESSAGE(older.exit_code == 0, older.err);
    CHECK(older.out.find("missing on disk") == std::string::npos);
    CHECK(dataset_files(out) == before);
}

TEST_CASE("the write stage removes the files no written job names, and only those") {
    const auto& m = monaco();
    const auto out = fresh_dir("reliability-orphans");
    const auto first = run(shell(build_argv(out, m.sources, {"--limit", "30"})));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);
    std::string image; // images1/<stem>.jpg of a written job
    for (const auto& [name, bytes] : before)
        if (name.starts_with("images1/") && name.ends_with(".jpg")) image = name;
    REQUIRE(!image.empty());
    const auto stem = image.substr(8, image.size() - 8 - 4);
    // Strays: unknown names, a job's stem with the other folder's extension, in another part's
    // folder, in a folder with a leading zero, with a suffix, and a scratch file of a killed write.
    const std::vector<std::string> strays = {"images1/stray.jpg", "meta1/stray.pickle", "images1/" + stem + ".pickle", "meta1/" + stem + ".jpg",
                                             "images2/" + stem + ".jpg", "images01/" + stem + ".jpg", "images1/" + stem + "x.jpg",
                                             "meta1/" + stem + ".pickle.partial-12345", "images_old/" + stem + ".jpg"};
    for (const auto& f : strays) {
        fs::create_directories(fs::path(out + "/" + f).parent_path());
        write_file(out + "/" + f, "stray");
    }
    const auto write = run(shell({binary(), "write", out}));
    REQUIRE_MESSAGE(write.exit_code == 0, write.err);
    CHECK(write.out.find("removed " + std::to_string(strays.size()) + " files no written job names") != std::string::npos);
    for (const auto& f : strays) CHECK_MESSAGE(!fs::exists(out + "/" + f), f);
    CHECK(dataset_files(out) == before); // every file a written job names is still there, the same
}

namespace {

// A build of 30 of Monaco's objects in a fresh folder NAME, and a fresh folder NAME-outside beside it.
std::pair<std::string, std::string> small_build_and_outside(const std::string& name) {
    const auto out = fresh_dir(name), outside = fresh_dir(name + "-outside");
    const auto first = run(shell(build_argv(out, monaco().sources, {"--limit", "30"})));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    return {out, outside};
}

} // namespace

TEST_CASE("a folder of the build's made a symbolic link is refused, not followed: nothing outside OUT is written or removed") {
    const auto& m = monaco();
    const auto [out, victim] = small_build_and_outside("reliability-linked-folders");
    const auto victim_files = [&] {
        std::set<std::string> names;
        for (const auto& e : fs::directory_iterator(victim)) names.insert(e.path().filename().string() + "=" + read_file(e.path().string()));
        return names;
    };
    write_file(victim + "/important.txt", "mine");
    write_file(victim + "/notes.pickle", "mine");
    write_file(victim + "/photo.jpg", "mine");
    const auto untouched = victim_files();
    const auto refused = [&](const CommandResult& r, const std::string& link) {
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(link + ": a symbolic link (to " + victim + ")") != std::string::npos);
        CHECK(victim_files() == untouched); // before: pickles, images, shards and class names written there, the rest removed
    };
    // A part's folders, as the write and the bare command's fetch meet them.
    fs::rename(out + "/meta1", out + "/meta1.moved");
    fs::create_directory_symlink(victim, out + "/meta1");
    refused(run(shell({binary(), "write", out})), out + "/meta1");
    fs::remove(out + "/meta1");
    fs::rename(out + "/meta1.moved", out + "/meta1");
    fs::rename(out + "/images1", out + "/images1.moved");
    fs::create_directory_symlink(victim, out + "/images1");
    refused(run(shell(build_argv(out, m.sources, {"--limit", "30"}))), out + "/images1");
    fs::remove(out + "/images1");
    fs::rename(out + "/images1.moved", out + "/images1");
    const auto again = run(shell(build_argv(out, m.sources, {"--limit", "30"}))); // its images were seen missing: taken back
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    // A part folder no job writes to is not swept through: its files are not the build's.
    fs::create_directory_symlink(victim, out + "/images9");
    const auto write = run(shell({binary(), "write", out}));
    CHECK_MESSAGE(write.exit_code == 0, write.err);
    CHECK(victim_files() == untouched);
    fs::remove(out + "/images9");
    // The split's shards and the benchmarks' folders.
    REQUIRE(run(shell({binary(), "split", out, "--format", "webdataset", "-q"})).exit_code == 0);
    REQUIRE(run(shell({binary(), "benchmarks", out, "-q"})).exit_code == 0);
    fs::remove_all(out + "/webdataset/train");
    fs::create_directory_symlink(victim, out + "/webdataset/train");
    refused(run(shell({binary(), "split", out, "--format", "webdataset", "-q"})), out + "/webdataset/train");
    fs::remove(out + "/webdataset/train");
    REQUIRE(run(shell({binary(), "split", out, "--format", "webdataset", "-q"})).exit_code == 0);
    fs::remove_all(out + "/benchmarks");
    fs::create_directory_symlink(victim, out + "/benchmarks");
    refused(run(shell({binary(), "benchmarks", out, "-q"})), out + "/benchmarks");
}

TEST_CASE("a file of the build's made a link or a FIFO is refused, not written through; an image made a link is no image of the build") {
    const auto [out, outside] = small_build_and_outside("reliability-linked-files");
    const auto refused = [](const CommandResult& r, const std::string& path) {
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(path + ": a symbolic link") != std::string::npos);
    };
    // build.lock linked to a file outside: before, the run truncated it and wrote its pid there.
    write_file(outside + "/v1", "keep");
    fs::rename(out + "/build.lock", outside + "/lock.moved");
    fs::create_symlink(outside + "/v1", out + "/build.lock");
    refused(run(shell({binary(), "write", out})), out + "/build.lock");
    CHECK(read_file(outside + "/v1") == "keep");
    fs::remove(out + "/build.lock");
    // state.sqlite linked to a copy outside (before: written through, its -wal and -shm made
    // beside it, by status too), or to nowhere (before: a plan made a state DB there).
    fs::copy_file(out + "/state.sqlite", outside + "/st.sqlite");
    const auto st = read_file(outside + "/st.sqlite");
    fs::rename(out + "/state.sqlite", out + "/state.moved");
    fs::create_symlink(outside + "/st.sqlite", out + "/state.sqlite");
    refused(run(shell({binary(), "status", out})), out + "/state.sqlite");
    refused(run(shell({binary(), "split", out, "-q"})), out + "/state.sqlite");
    CHECK(read_file(outside + "/st.sqlite") == st);
    CHECK_FALSE(fs::exists(outside + "/st.sqlite-wal"));
    fs::remove(out + "/state.sqlite");
    fs::create_symlink(outside + "/new.sqlite", out + "/state.sqlite");
    refused(run(shell({binary(), "plan", out, "-q"})), out + "/state.sqlite");
    CHECK_FALSE(fs::exists(outside + "/new.sqlite"));
    fs::remove(out + "/state.sqlite");
    fs::rename(out + "/state.moved", out + "/state.sqlite");
    // polish_answers.sqlite linked to nowhere: before, the polish made its answers DB there.
    fs::create_symlink(outside + "/answers.sqlite", out + "/polish_answers.sqlite");
    refused(run(shell({binary(), "polish", out, "--llm-endpoint", "http://127.0.0.1:9/v1", "--llm-model", "x", "-q"})), out + "/polish_answers.sqlite");
    CHECK_FALSE(fs::exists(outside + "/answers.sqlite"));
    fs::remove(out + "/polish_answers.sqlite");
    // A FIFO for the catalog: before, report and plan waited for a writer for ever.
    fs::rename(out + "/catalog.gpkg", out + "/catalog.moved");
    REQUIRE(::mkfifo((out + "/catalog.gpkg").c_str(), 0644) == 0);
    const auto report = run("timeout 60 " + shell({binary(), "report", out, "-q"}));
    CHECK_MESSAGE(report.exit_code == 0, report.err); // 124 before: killed by timeout; the report goes without the catalog
    const auto plan = run("timeout 60 " + shell({binary(), "plan", out, "-q"}));
    CHECK(plan.exit_code == 1);
    CHECK(plan.err.find(out + "/catalog.gpkg: not a regular file") != std::string::npos);
    fs::remove(out + "/catalog.gpkg");
    fs::rename(out + "/catalog.moved", out + "/catalog.gpkg");
    // An image made a link to a file outside of its size: before, its bytes went into the
    // shards (and hf/ got a hard link to the link). Now it is missing, left out, fetched again.
    std::string image;
    for (const auto& e : fs::directory_iterator(out + "/images1")) image = e.path().string();
    REQUIRE(!image.empty());
    write_file(outside + "/secret.jpg", std::string(fs::file_size(image), 'S'));
    fs::remove(image);
    fs::create_symlink(outside + "/secret.jpg", image);
    const auto split = run(shell({binary(), "split", out, "--format", "all", "-q"}));
    INFO(split.err);
    CHECK(split.exit_code == 0);
    CHECK(split.err.find("1 images of finished jobs are missing on disk") != std::string::npos);
    CHECK(run("grep -rl SSSSSSSS " + sh_quote(out)).out.empty());
    CHECK(read_file(outside + "/secret.jpg") == std::string(fs::file_size(outside + "/secret.jpg"), 'S'));
}

TEST_CASE("a source whose content changed since the plan is refused in one line; nothing written is lost") {
    const auto& m = monaco();
    const auto dir = fresh_dir("reliability-source-changed");
    const auto raster = dir + "/imagery.tif", other = dir + "/other.tif";
    fs::copy_file(m.raster, raster);
    fs::copy_file(m.raster, other);
    const auto sources = dir + "/sources.toml";
    const auto toml = [&](const std::string& path) {
        return "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + path + "\"\nyear = 2021\n";
    };
    write_file(sources, toml(raster));
    const auto out = dir + "/out";
    const auto argv = build_argv(out, sources, {"--limit", "30", "-q"});
    const auto first = run(shell(argv));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);

    // The raster replaced in place by other pixels (same name, same size: only its time tells).
    const auto darker = run("gdal_translate -q -scale 0 255 0 128 " + sh_quote(m.raster) + " " + sh_quote(raster));
    REQUIRE_MESSAGE(darker.exit_code == 0, darker.err);
    const auto refused = run(shell(argv));
    check_one_line(refused, "the raster of source IMG, " + raster + ", changed");
    CHECK(refused.err.find("would mix two datasets") != std::string::npos);
    CHECK(dataset_files(out) == before);

    // Planned, not fetched yet; then the sources file is edited in place (same name) to give the
    // alias another raster: fetching now would cut the planned tiles from other pixels.
    fs::copy_file(m.raster, raster, fs::copy_options::overwrite_existing);
    const auto out2 = dir + "/out2";
    write_file(sources, toml(raster));
    REQUIRE(run(shell({binary(), "extract", data("osm/monaco-latest.osm.pbf"), "-o", out2, "-q"})).exit_code == 0);
    const auto plan = run(shell({binary(), "plan", out2, "--sources", sources, "--limit", "30", "-q"}));
    REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    write_file(sources, toml(other));
    check_one_line(run(shell({binary(), "fetch", out2, "-q"})), "the settings of source IMG changed (path)");
    // The setting that changed is named (before: "(URL, path, collection, bands, dates, GSD, ...)" whatever it was).
    write_file(sources, toml(raster) + "bands = [3, 2, 1]\nstretch = [0, 200]\n");
    check_one_line(run(shell({binary(), "fetch", out2, "-q"})), "the settings of source IMG changed (bands; stretch)");
    write_file(sources, toml(raster) + "gsd = 0.7\n");
    check_one_line(run(shell({binary(), "fetch", out2, "-q"})), "the settings of source IMG changed (gsd)");
    CHECK(sql_int(out2 + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status != 'planned'") == 0);
    // A plan of an older version recorded no digest a setting: the change is still refused, named
    // as it was; unchanged, the fetch goes on and records the identity in full.
    const auto identity = sql_column(out2 + "/state.sqlite", "SELECT identity FROM sources_identity").at(0);
    REQUIRE(identity.find(" lines=") != std::string::npos);
    REQUIRE(run("sqlite3 " + sh_quote(out2 + "/state.sqlite") + " \"UPDATE sources_identity SET identity = '" +
                identity.substr(0, identity.find(" lines=")) + identity.substr(identity.find(" data=")) + "'\"").exit_code == 0);
    check_one_line(run(shell({binary(), "fetch", out2, "-q"})), "the settings of source IMG changed (URL, path, collection");
    write_file(sources, toml(raster));
    const auto fetched = run(shell({binary(), "fetch", out2, "-q"}));
    CHECK_MESSAGE(fetched.exit_code == 0, fetched.err);
    CHECK(sql_column(out2 + "/state.sqlite", "SELECT identity FROM sources_identity").at(0) == identity);
}

TEST_CASE("a VRT whose member or overviews changed is refused like its own file; resume and tile keys otherwise unchanged") {
    const auto& m = monaco();
    const auto dir = fresh_dir("reliability-vrt-member-changed");
    // outer.vrt -> inner.vrt -> member.tif: GDAL lists inner.vrt as outer's file, not member.tif.
    const auto member = dir + "/member.tif", inner = dir + "/inner.vrt", outer = dir + "/outer.vrt";
    fs::copy_file(m.raster, member);
    REQUIRE(run("gdalbuildvrt -q " + sh_quote(inner) + " " + sh_quote(member)).exit_code == 0);
    REQUIRE(run("gdalbuildvrt -q " + sh_quote(outer) + " " + sh_quote(inner)).exit_code == 0);
    const auto sources = dir + "/sources.toml";
    write_file(sources, "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + outer + "\"\nyear = 2021\n");
    const auto out = dir + "/out";
    const auto argv = build_argv(out, sources, {"--limit", "30", "-q"});
    const auto first = run(shell(argv));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);
    const auto key = sql_column(out + "/state.sqlite", "SELECT DISTINCT tile_key FROM jobs LIMIT 1").at(0);
    CHECK(key.find("+2 files ") != std::string::npos); // inner.vrt and member.tif
    // Run again unchanged: reading the rasters wrote nothing GDAL lists (no .aux.xml), so it resumes.
    const auto again = run(shell(argv));
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    CHECK(dataset_files(out) == before);
    // A state DB whose identity an older version recorded (the VRT's own file only) is taken,
    // and its identity completed: that version could not see the members.
    const auto full = sql_column(out + "/state.sqlite", "SELECT identity FROM sources_identity").at(0);
    const auto plus = full.find(" +2 files ");
    REQUIRE(plus != std::string::npos);
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " " + sh_quote("UPDATE sources_identity SET identity = '" + full.substr(0, plus) + "' || char(10)")).exit_code == 0);
    const auto upgraded = run(shell(argv));
    CHECK_MESSAGE(upgraded.exit_code == 0, upgraded.err);
    CHECK(sql_column(out + "/state.sqlite", "SELECT identity FROM sources_identity").at(0) == full);

    // The member replaced by darker pixels, the VRTs untouched: the build is refused.
    REQUIRE(run("gdal_translate -q -scale 0 255 0 128 " + sh_quote(m.raster) + " " + sh_quote(member)).exit_code == 0);
    const auto refused = run(shell(argv));
    check_one_line(refused, "the raster of source IMG, " + outer + ", changed (one of the 2 other files GDAL reads for it is not as it was");
    CHECK(dataset_files(out) == before);

    // A fresh plan keys its tiles by the new member (so --reuse takes no image of the old one);
    // then overviews are built for the member before the fetch: refused, nothing fetched.
    const auto out2 = dir + "/out2";
    REQUIRE(run(shell({binary(), "extract", data("osm/monaco-latest.osm.pbf"), "-o", out2, "-q"})).exit_code == 0);
    const auto plan = run(shell({binary(), "plan", out2, "--sources", sources, "--limit", "30", "-q"}));
    REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    CHECK(sql_column(out2 + "/state.sqlite", "SELECT DISTINCT tile_key FROM jobs LIMIT 1").at(0) != key);
    REQUIRE(run("gdaladdo -q -ro " + sh_quote(member) + " 2 4").exit_code == 0);
    REQUIRE(fs::exists(member + ".ovr"));
    check_one_line(run(shell({binary(), "fetch", out2, "-q"})), "the raster of source IMG, " + outer + ", changed (GDAL read 2 other files for it (VRT members, overviews, sidecars), now 3)");
    CHECK(sql_int(out2 + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status != 'planned'") == 0);
}

TEST_CASE("an input moved or renamed is the same input: the build goes on from its new path; other bytes under its path are refused") {
    const auto dir = fresh_dir("reliability-input-moved");
    const auto sources = monaco_sources(dir);
    const auto input = dir + "/monaco.osm.pbf", moved = dir + "/elsewhere/renamed.osm.pbf", out = dir + "/out";
    fs::copy_file(data("osm/monaco-latest.osm.pbf"), input);
    const auto argv = [&](const std::string& pbf) {
        return std::vector<std::string>{binary(), pbf, "-o", out, "--sources", sources, "--limit", "30"};
    };
    const auto first = run(shell(argv(input)));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);

    fs::create_directories(dir + "/elsewhere");
    fs::rename(input, moved);
    const auto resumed = run(shell(argv(moved)));
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(resumed.err.find(input + " moved to " + moved + " (the same bytes): going on") != std::string::npos);
    CHECK(dataset_files(out) == before);
    CHECK(sql_column(out + "/state.sqlite", "SELECT value FROM options WHERE key = 'input'").at(0) == moved); // the path an extract would resume from

    // A path with no file is no input moved there: refused as another input, the recorded path kept.
    const auto nowhere = run(shell(argv(dir + "/nowhere.osm.pbf")));
    check_one_line(nowhere, "this run asks --input " + dir + "/nowhere.osm.pbf (OUT was built with " + moved + ")");
    CHECK(sql_column(out + "/state.sqlite", "SELECT value FROM options WHERE key = 'input'").at(0) == moved);

    // Another file of the same size under that path (one byte changed): refused, nothing lost.
    // (Monaco is under 1 MiB, so its every byte is in the fingerprint; in a larger file only a
    // change of size or in its first or last MiB is seen: input_fingerprint.hpp.)
    auto bytes = read_file(moved);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
    write_file(moved, bytes);
    const auto refused = run(shell(argv(moved)));
    check_one_line(refused, moved + " is not the file OUT was built from");
    CHECK(refused.err.find("would mix two datasets") != std::string::npos);
    CHECK(dataset_files(out) == before);
}

TEST_CASE("a catalog replaced since the plan is refused in one line by every stage and the report; the same catalog extracted again is taken") {
    const auto dir = fresh_dir("reliability-catalog-changed");
    // No imagery is fetched: a source nothing answers, and the commands stop before the network.
    const auto sources = dir + "/sources.toml";
    write_file(sources, "[[source]]\nalias = \"ANY\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    const auto monaco_pbf = data("osm/monaco-latest.osm.pbf");
    const auto out = dir + "/out";
    REQUIRE(run(shell({binary(), "extract", monaco_pbf, "-o", out, "-q"})).exit_code == 0);
    const auto plan = run(shell({binary(), "plan", out, "--sources", sources, "-q"}));
    REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    const auto planned = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs");
    REQUIRE(planned > 1000);
    // Another region's catalog copied in: its fids name other objects (before this check the
    // plan was skipped as done, and the report named Liechtenstein for Monaco's jobs).
    REQUIRE(run(shell({binary(), "extract", data("osm/liechtenstein-2013-08-03.osm.pbf"), "-o", dir + "/other", "-q"})).exit_code == 0);
    fs::copy_file(dir + "/other/catalog.gpkg", out + "/catalog.gpkg", fs::copy_options::overwrite_existing);
    const std::string refused = "is not the catalog " + out + " was planned from";
    for (const auto& argv : std::vector<std::vector<std::string>>{{binary(), "plan", out, "-q"},
                                                                  {binary(), "fetch", out, "-q"},
                                                                  {binary(), "report", out, "-q"},
                                                                  {binary(), "write", out, "-q"}}) {
        CAPTURE(argv[1]);
        const auto r = run(shell(argv));
        check_one_line(r, refused);
        CHECK(r.err.find("liechtenstein-2013-08-03.osm.pbf") != std::string::npos); // what it holds
        CHECK(r.err.find("monaco-latest.osm.pbf") != std::string::npos);             // what the plan was made from
        CHECK(r.err.find("would mix two datasets") != std::string::npos);
    }
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'planned'") == planned); // nothing done
    CHECK_FALSE(fs::exists(out + "/report.json"));
    // The same input extracted again (another time, the same rows): taken.
    REQUIRE(run(shell({binary(), "extract", monaco_pbf, "-o", dir + "/again", "-q"})).exit_code == 0);
    fs::copy_file(dir + "/again/catalog.gpkg", out + "/catalog.gpkg", fs::copy_options::overwrite_existing);
    const auto report = run(shell({binary(), "report", out, "-q"}));
    CHECK_MESSAGE(report.exit_code == 0, report.err);
    CHECK(run(shell({binary(), "plan", out, "-q"})).exit_code == 0);
}

TEST_CASE("a catalog lost after the plan is extracted again and the plan and its images kept, with the input moved too; another catalog is refused") {
    const auto dir = fresh_dir("reliability-catalog-lost");
    const auto sources = monaco_sources(dir);
    const auto input = dir + "/monaco.osm.pbf", moved = dir + "/moved.osm.pbf", out = dir + "/out";
    fs::copy_file(data("osm/monaco-latest.osm.pbf"), input);
    const auto argv = [&](const std::string& pbf) {
        return std::vector<std::string>{binary(), pbf, "-o", out, "--sources", sources, "--limit", "40"};
    };
    const auto first = run(shell(argv(input)));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);
    const auto image_times = [&] {
        std::map<std::string, fs::file_time_type> times;
        for (const auto& e : fs::recursive_directory_iterator(out))
            if (e.path().extension() == ".jpg") times[e.path().string()] = fs::last_write_time(e.path());
        return times;
    };
    const auto fetched = image_times();
    REQUIRE(fetched.size() > 10);
    REQUIRE(static_cast<long long>(fetched.size()) == sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'"));
    const auto job_rows = [&] { return sql_column(out + "/state.sqlite", "SELECT job_id || ' ' || fid || ' ' || stem || ' ' || status FROM jobs ORDER BY job_id"); };
    const auto jobs = job_rows();

    // The catalog deleted (to save room: the stages after the plan read the state DB): the
    // rerun extracts it again, finds it the plan's, and keeps the plan and every image (before,
    // the extract reset the plan and every image was fetched again).
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // a rewritten image would show a later time
    fs::remove(out + "/catalog.gpkg");
    const auto again = run(shell(argv(input)));
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    CHECK(fs::exists(out + "/catalog.gpkg"));
    CHECK(again.out.find("the catalog the plan was made from: its jobs are kept") != std::string::npos);
    CHECK(image_times() == fetched);
    CHECK(job_rows() == jobs);
    CHECK(dataset_files(out) == before);

    // Lost again with the input moved: the same bytes elsewhere give the same catalog. The plan
    // made by an older version, whose identity has no hidden_digest: what it cannot say is not held against the new one.
    fs::rename(input, moved);
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"UPDATE catalog_identity SET identity = json_remove(identity, '\\$.hidden_digest')\"").exit_code == 0);
    REQUIRE(sql_column(out + "/state.sqlite", "SELECT identity FROM catalog_identity").at(0).find("hidden_digest") == std::string::npos);
    fs::remove(out + "/catalog.gpkg");
    const auto from_moved = run(shell(argv(moved)));
    CHECK_MESSAGE(from_moved.exit_code == 0, from_moved.err);
    CHECK(image_times() == fetched);
    CHECK(job_rows() == jobs);

    // Lost with its input: one line saying what to do; the stages after the plan go on without them.
    fs::rename(moved, input);
    fs::remove(out + "/catalog.gpkg");
    const auto no_input = run(shell(argv(moved)));
    check_one_line(no_input, out + "/catalog.gpkg is missing, and extracting it again needs " + moved + ", which is not a file now");
    for (const char* stage : {"fetch", "write", "split", "report"}) {
        CAPTURE(stage);
        const auto r = run(shell({binary(), stage, out, "-q"}));
        CHECK_MESSAGE(r.exit_code == 0, r.err);
    }
    CHECK(image_times() == fetched);
    CHECK(job_rows() == jobs);
    fs::rename(input, moved);

    // The plan made from another catalog (as by another version of the tool): the one extracted
    // now is refused, the plan and images kept.
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"UPDATE catalog_identity SET identity = replace(identity, '\\\"objects\\\":\\\"', '\\\"objects\\\":\\\"1')\"").exit_code == 0);
    fs::remove(out + "/catalog.gpkg");
    const auto other = run(shell(argv(moved)));
    check_one_line(other, "is not the catalog " + out + " was planned from");
    CHECK(image_times() == fetched);
    CHECK(job_rows() == jobs);
}

TEST_CASE("a --tags file edited in place since the extract is refused by the plan and the fetch; put back, it is taken") {
    const auto dir = fresh_dir("reliability-tags-edited");
    const auto sources = dir + "/sources.toml";
    write_file(sources, "[[source]]\nalias = \"ANY\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    const auto tags = dir + "/tags.tsv";
    const std::string list = "building=*\tfeature\t5\nleisure=pitch\tfeature\t5\nleisure=park\tfeature\t5\n";
    write_file(tags, list);
    const auto out = dir + "/out";
    REQUIRE(run(shell({binary(), "extract", data("osm/monaco-latest.osm.pbf"), "-o", out, "--tags", tags, "-q"})).exit_code == 0);
    // A tag dropped from the list before the plan: the catalog's pitches would be planned with
    // no tag to caption them by (8 jobs titled "a satellite image" before this check).
    write_file(tags, "building=*\tfeature\t5\nleisure=park\tfeature\t5\n");
    const std::string refused = "--tags " + tags + ": the tag list changed since " + out + "/catalog.gpkg was extracted with it";
    check_one_line(run(shell({binary(), "plan", out, "--sources", sources, "-q"})), refused);
    const bool planned = fs::exists(out + "/state.sqlite") && sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs") > 0;
    CHECK_FALSE(planned);
    // Put back, the plan runs; edited again (a GSD changed), the fetch refuses before any request
    // (its fallbacks would re-place jobs by the new list).
    write_file(tags, list);
    const auto plan = run(shell({binary(), "plan", out, "--sources", sources, "-q"}));
    REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    write_file(tags, "building=*\tfeature\t5\nleisure=pitch\tfeature\t2\nleisure=park\tfeature\t5\n");
    check_one_line(run(shell({binary(), "fetch", out, "-q"})), refused);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status != 'planned'") == 0);
    // The built-in list, as another version of the tool had it (the digest the extract recorded edited).
    const auto builtin = dir + "/builtin";
    REQUIRE(run(shell({binary(), "extract", data("osm/monaco-latest.osm.pbf"), "-o", builtin, "-q"})).exit_code == 0);
    REQUIRE(run("sqlite3 " + sh_quote(builtin + "/catalog.gpkg") + " \"UPDATE skyscript_meta SET value = '0123456789abcdef' WHERE key = 'tags_digest'\"").exit_code == 0);
    check_one_line(run(shell({binary(), "plan", builtin, "--sources", sources, "-q"})), "the built-in tag list is not the one " + builtin + "/catalog.gpkg was extracted with");
}

TEST_CASE("a --hidden or --polygon file edited in place since the extract is refused by a rerun naming it; the same rules or region written otherwise are taken") {
    const auto dir = fresh_dir("reliability-extract-files-edited");
    const auto sources = monaco_sources(dir);
    const auto hidden = dir + "/hidden.tsv", polygon = dir + "/region.geojson", out = dir + "/out";
    const std::string rules = "tunnel=*\tany\nlocation=underground\tany\n";
    const std::string region = R"({"type":"Polygon","coordinates":[[[7.40,43.72],[7.44,43.72],[7.44,43.75],[7.40,43.75],[7.40,43.72]]]})";
    write_file(hidden, rules);
    write_file(polygon, region);
    const std::vector<std::string> argv{binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", sources, "--limit", "30",
                                        "--hidden", hidden, "--polygon", polygon};
    const auto first = run(shell(argv));
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);

    // The same rules and region written otherwise (a comment, other spacing, a property): taken.
    write_file(hidden, "# ours\ntunnel=*      any\n\nlocation=underground\tany   # caves too\n");
    write_file(polygon, R"({"type": "Feature", "properties": {"name": "Monaco"},
  "geometry": {"type": "Polygon", "coordinates": [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.75], [7.40, 43.75], [7.40, 43.72]]]}})");
    const auto same = run(shell(argv));
    CHECK_MESSAGE(same.exit_code == 0, same.err);
    CHECK(dataset_files(out) == before);
    // The ring the other way round, from another corner: the same region.
    write_file(polygon, R"({"type":"Polygon","coordinates":[[[7.44,43.75],[7.44,43.72],[7.40,43.72],[7.40,43.75],[7.44,43.75]]]})");
    const auto reversed = run(shell(argv));
    CHECK_MESSAGE(reversed.exit_code == 0, reversed.err);
    // A number written otherwise is the same number (--margin 0.10 is the default 0.1).
    auto margin = argv;
    margin.insert(margin.end(), {"--margin", "0.10"});
    const auto same_margin = run(shell(margin));
    CHECK_MESSAGE(same_margin.exit_code == 0, same_margin.err);
    CHECK(dataset_files(out) == before);

    // A rule dropped: the finished catalog keeps the objects it hid no more (before this check
    // the rerun said nothing and the dataset stayed the old rules').
    write_file(hidden, "tunnel=*\tany\n");
    const auto edited_rules = run(shell(argv));
    check_one_line(edited_rules, "--hidden " + hidden + ": the rules changed since " + out + "/catalog.gpkg was extracted with it");
    CHECK(dataset_files(out) == before);
    write_file(hidden, rules);

    // A build an earlier version extracted from a file with a rule given twice (which an extract
    // now refuses; its digest of the doubled rules written in by hand), stopped after its
    // extract: the rerun goes on, the file read as that version read it (review of red-team
    // round 33: refused as a duplicate, then refused as changed once the duplicate went).
    {
        const auto earlier = dir + "/earlier", doubled_rules = dir + "/doubled.tsv";
        write_file(doubled_rules, rules);
        const std::vector<std::string> earlier_argv{binary(), data("osm/monaco-latest.osm.pbf"), "-o", earlier, "--sources", sources, "--limit", "30",
                                                    "--hidden", doubled_rules, "--polygon", polygon, "-q"};
        const auto extracted = [&] {
            return run("sqlite3 -readonly " + sh_quote(earlier + "/state.sqlite") + " \"SELECT count(*) FROM stages WHERE stage = 'extract'\" 2>/dev/null").out == "1\n";
        };
        kill_when(start_process(earlier_argv), extracted);
        REQUIRE(extracted());
        write_file(doubled_rules, rules + "tunnel=*\tany\n");
        const auto digest = skyscript::pipeline::hidden_rules_digest(
            skyscript::pipeline::load_hidden_option(doubled_rules, skyscript::tags::HiddenRules::Reading::earlier));
        REQUIRE(run("sqlite3 " + sh_quote(earlier + "/catalog.gpkg") + " \"UPDATE skyscript_meta SET value = '" + digest + "' WHERE key = 'hidden_digest'\"")
                    .exit_code == 0);
        const auto built = run(shell(earlier_argv));
        CHECK_MESSAGE(built.exit_code == 0, built.err);
        CHECK_THROWS_WITH(skyscript::pipeline::load_hidden_option(doubled_rules), doctest::Contains("is given twice")); // a new extract's reading
    }

    // The region moved east.
    write_file(polygon, R"({"type":"Polygon","coordinates":[[[7.42,43.72],[7.45,43.72],[7.45,43.75],[7.42,43.75],[7.42,43.72]]]})");
    const auto edited_region = run(shell(argv));
    check_one_line(edited_region, "--polygon " + polygon + ": the region changed since " + out + "/catalog.gpkg was extracted with it");
    CHECK(dataset_files(out) == before);

    // A stage that does not name the files is not asked about them.
    const auto report = run(shell({binary(), "report", out, "-q"}));
    CHECK_MESSAGE(report.exit_code == 0, report.err);
    // Put back, the rerun goes on.
    write_file(polygon, region);
    const auto back = run(shell(argv));
    CHECK_MESSAGE(back.exit_code == 0, back.err);
    CHECK(dataset_files(out) == before);
}

TEST_CASE("files given by relative path are the build's own from any folder: a stage run elsewhere reads them, not a namesake there") {
    const auto& m = monaco();
    const auto dir = fresh_dir("reliability-relative-paths");
    fs::create_directories(dir + "/work");
    fs::create_directories(dir + "/elsewhere");
    write_file(dir + "/work/sources.toml", "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2021\n");
    write_file(dir + "/work/extra.tsv", "leisure=pitch\tfeature\t5\n");
    // A namesake elsewhere: another source (another year), another tag list.
    write_file(dir + "/elsewhere/sources.toml", "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2019\n");
    write_file(dir + "/elsewhere/extra.tsv", "leisure=park\tfeature\t5\n");
    const auto out = dir + "/out";
    const auto in = [&](const std::string& folder, const std::vector<std::string>& argv) { return run("cd " + sh_quote(folder) + " && " + shell(argv)); };
    const auto first = in(dir + "/work", {binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", "sources.toml", "--tags", "+extra.tsv",
                                          "--limit", "30"});
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto before = dataset_files(out);
    // OUT records the files, not names to look up wherever a later run starts.
    CHECK(sql_column(out + "/state.sqlite", "SELECT value FROM options WHERE key = 'sources'").at(0) == dir + "/work/sources.toml");
    CHECK(sql_column(out + "/state.sqlite", "SELECT value FROM options WHERE key = 'tags'").at(0) == "+" + dir + "/work/extra.tsv");
    // The dataset card shows file names only, with the + that says the list was added to the default.
    CHECK(read_file(out + "/README.md").find("--tags +extra.tsv") != std::string::npos);
    CHECK(read_file(out + "/README.md").find(dir) == std::string::npos);

    // Jobs to fetch again, from another folder holding namesakes: the build's files are read
    // (before, `sources.toml` was looked up there: refused as changed sources, or not found).
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"UPDATE jobs SET status = 'planned' WHERE job_id IN (SELECT job_id FROM jobs LIMIT 5)\"").exit_code == 0);
    for (const char* stage : {"fetch", "write", "split", "report"}) {
        CAPTURE(stage);
        const auto r = in(dir + "/elsewhere", {binary(), stage, out, "-q"});
        CHECK_MESSAGE(r.exit_code == 0, r.err);
    }
    CHECK(dataset_files(out) == before);
    const auto none = in("/", {binary(), "fetch", out, "-q"});
    CHECK_MESSAGE(none.exit_code == 0, none.err);
    // The bare command again from the first folder, with the same relative names: the same build.
    const auto again = in(dir + "/work", {binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", "sources.toml", "--tags", "+extra.tsv",
                                          "--limit", "30", "-q"});
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    // From the other folder, the same names are other files: refused as another option.
    const auto other = in(dir + "/elsewhere", {binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", "sources.toml", "-q"});
    check_one_line(other, "this run asks --sources " + dir + "/elsewhere/sources.toml (OUT was built with " + dir + "/work/sources.toml)");
    CHECK(dataset_files(out) == before);
}

TEST_CASE("a folder that is no build's is refused before anything is written there; an extract over a build's catalog too") {
    const auto dir = fresh_dir("reliability-foreign-folder");
    const auto sources = monaco_sources(dir);
    // Someone's folder that holds what a build writes (an original SkyScript download, photos).
    const auto home = dir + "/home";
    fs::create_directories(home + "/images1");
    fs::create_directories(home + "/images2");
    write_file(home + "/images1/holiday.jpg", "mine");
    write_file(home + "/images2/x.jpg", "mine");
    write_file(home + "/SkyScript_train_top30pct_filtered_by_CLIP.csv", "filepath,title\n");
    write_file(home + "/README.md", "mine\n");
    const auto files_of = [](const std::string& root) {
        std::map<std::string, std::string> files;
        for (const auto& e : fs::recursive_directory_iterator(root))
            if (e.is_regular_file()) files[e.path().string()] = read_file(e.path().string());
        return files;
    };
    const auto before = files_of(home);
    const auto r = run(shell(build_argv(home, sources, {"--limit", "20"})));
    // Before: exit 0, holiday.jpg, images2/ and the CSV removed, README.md replaced.
    check_one_line(r, home + " holds README.md, SkyScript_train_top30pct_filtered_by_CLIP.csv, images1, images2 but is no skyscript-build folder");
    CHECK(files_of(home) == before);
    CHECK_FALSE(fs::exists(home + "/state.sqlite"));
    // merge into it too (before: exit 0, holiday.jpg removed; its lock made the folder look like a build's).
    const auto merge = run(shell({binary(), "merge", home, dir + "/shard0", dir + "/shard1", "-q"}));
    check_one_line(merge, home + " holds README.md, SkyScript_train_top30pct_filtered_by_CLIP.csv, images1, images2 but is no skyscript-build folder");
    CHECK(files_of(home) == before);
    // Another program's database named state.sqlite does not make a folder a build's (before:
    // the build wrote its tables into it and removed holiday.jpg; merge replaced the database).
    REQUIRE(run("sqlite3 " + sh_quote(home + "/state.sqlite") + " 'CREATE TABLE photos(name TEXT)'").exit_code == 0);
    const auto with_db = files_of(home);
    const auto over_db = run(shell(build_argv(home, sources, {"--limit", "20"})));
    check_one_line(over_db, home + "/state.sqlite: not a skyscript-build state DB (no jobs table), in a folder no build has locked");
    const auto merge_db = run(shell({binary(), "merge", home, dir + "/shard0", dir + "/shard1", "-q"}));
    check_one_line(merge_db, home + "/state.sqlite: not a skyscript-build state DB (no jobs table)");
    CHECK(files_of(home) == with_db);
    // A folder with other things (the demo's raster and sources) is a build's to make.
    const auto fresh = dir + "/fresh";
    fs::create_directories(fresh);
    fs::copy_file(sources, fresh + "/sources.toml");
    const auto built = run(shell(build_argv(fresh, fresh + "/sources.toml", {"--limit", "20"})));
    REQUIRE_MESSAGE(built.exit_code == 0, built.err);
    // A build's own folder whose state DB was removed to start over (its build.lock stays) goes on.
    fs::remove(fresh + "/state.sqlite");
    const auto over = run(shell(build_argv(fresh, fresh + "/sources.toml", {"--limit", "20"})));
    CHECK_MESSAGE(over.exit_code == 0, over.err);

    // `extract` into a build's folder would replace the catalog its plan names by row (before:
    // NYC's catalog replaced Monaco's, and every later stage refused the build).
    const auto catalog = read_file(fresh + "/catalog.gpkg");
    const auto extract = run(shell({binary(), "extract", data("osm/nyc.osm.pbf"), "-o", fresh, "-q"}));
    check_one_line(extract, fresh + " is a build's folder (" + fresh + "/state.sqlite): extracting again there would replace the catalog");
    CHECK(read_file(fresh + "/catalog.gpkg") == catalog);

    // A --sources file that is not there is named before the extract runs (before: after it).
    const auto missing = run(shell(build_argv(dir + "/new", dir + "/nope.toml", {})));
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("--sources " + dir + "/nope.toml: cannot open sources file (no such file)") != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/new"));
}

TEST_CASE("a WMS server's exception text, quoted by GDAL, reaches the error line as one line without its terminal escapes") {
    const auto dir = fresh_dir("reliability-wms-escape");
    fs::create_directories(dir + "/root");
    // An OSC that retitles the terminal, a colour, a bell and a line break that forges a line of ours.
    write_file(dir + "/root/exc.xml", "<?xml version=\"1.0\"?><ServiceExceptionReport><ServiceException>\x1b]0;PWNED\x07\x1b[31mRED\n"
                                      "skyscript-build: done, 0 errors" + std::string(6000, 'x') + "</ServiceException></ServiceExceptionReport>");
    ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", dir + "/root"});
    write_file(dir + "/wms.xml", "<GDAL_WMS><Service name=\"WMS\"><Version>1.1.1</Version><ServerUrl>" + server.url("/xyz/exc.xml?") +
                                     "</ServerUrl><SRS>EPSG:4326</SRS><ImageFormat>image/png</ImageFormat><Layers>x</Layers></Service>"
                                     "<DataWindow><UpperLeftX>7.40</UpperLeftX><UpperLeftY>43.75</UpperLeftY><LowerRightX>7.44</LowerRightX>"
                                     "<LowerRightY>43.72</LowerRightY><SizeX>4000</SizeX><SizeY>3000</SizeY></DataWindow><BandsCount>3</BandsCount></GDAL_WMS>");
    const auto r = run(fetch_one_command() + " --raster " + sh_quote(dir + "/wms.xml") + " --center 7.42,43.73 --side-m 100 --gsd 1 --attempts 1 -o " +
                       sh_quote(dir + "/x.jpg"));
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("PWNED") != std::string::npos); // the server's words are there, as text
    for (const char c : {'\x1b', '\x07'}) {
        CHECK(r.err.find(c) == std::string::npos);
        CHECK(r.out.find(c) == std::string::npos);
    }
    CHECK(lines(r.err).size() == 1);
    // Quoted once, though the line and GDAL's text were each cut at their own length (a review finding: twice, 4 KB).
    CHECK(r.err.find("GDAL:") == r.err.rfind("GDAL:"));
    CHECK(r.err.size() < 2300);
}

TEST_CASE("a WMS server that answers a tile with a VRT naming a local file gets no byte of it into the image") {
    const auto dir = fresh_dir("reliability-wms-vrt-tile");
    fs::create_directories(dir + "/root");
    write_file(dir + "/secret.txt", std::string(256 * 256, 'S')); // 'S' is 83
    // A 256 x 256 tile whose three bands are the local file's bytes (VRTRawRasterBand); GDAL's
    // WMS driver opened the downloaded tile with any driver, VRT among them.
    std::string vrt = "<VRTDataset rasterXSize=\"256\" rasterYSize=\"256\">";
    for (int b = 1; b <= 3; ++b)
        vrt += "<VRTRasterBand dataType=\"Byte\" band=\"" + std::to_string(b) + "\" subClass=\"VRTRawRasterBand\"><SourceFilename relativeToVRT=\"0\">" +
               dir + "/secret.txt</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>256</LineOffset></VRTRasterBand>";
    write_file(dir + "/root/tile.png", vrt + "</VRTDataset>");
    ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", dir + "/root"});
    write_file(dir + "/wms.xml", "<GDAL_WMS><Service name=\"WMS\"><Version>1.1.1</Version><ServerUrl>" + server.url("/xyz/tile.png?") +
                                     "</ServerUrl><SRS>EPSG:4326</SRS><ImageFormat>image/png</ImageFormat><Layers>x</Layers></Service>"
                                     "<DataWindow><UpperLeftX>7.40</UpperLeftX><UpperLeftY>43.75</UpperLeftY><LowerRightX>7.44</LowerRightX>"
                                     "<LowerRightY>43.72</LowerRightY><SizeX>4000</SizeX><SizeY>3000</SizeY></DataWindow><BandsCount>3</BandsCount>"
                                     "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY></GDAL_WMS>");
    const auto out = dir + "/x.tif";
    const auto r = run("cd " + sh_quote(dir) + " && " + fetch_one_command() + " --raster " + sh_quote(dir + "/wms.xml") +
                       " --center 7.42,43.73 --side-m 100 --gsd 1 --attempts 1 --resampling near -o " + sh_quote(out));
    INFO(r.err);
    // Before: exit 0, "100.0% with data", every pixel 83.
    CHECK(r.exit_code == 1);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(dir + "/gdalwmscache")); // no tile cache written under the working folder either
}

TEST_CASE("GDAL's own error text, quoted in our error line, has its URL secrets redacted") {
    // Port 9 (discard) on loopback: nothing answers; GDAL names the path in its message.
    const auto r = run(fetch_one_command() +
                       " --raster '/vsicurl?url=http%3A%2F%2F127.0.0.1%3A9%2Fx.tif%3Fsig%3DSECRETXYZ' --center 7.42,43.73 --side-m 100 --gsd 1 -o " +
                       sh_quote(fresh_dir("reliability-gdal-secret") + "/x.jpg"));
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("GDAL:") != std::string::npos);
    CHECK(r.err.find("SECRETXYZ") == std::string::npos);
    CHECK(r.out.find("SECRETXYZ") == std::string::npos);
}

namespace {

// DIR/out: Monaco extracted and planned (--limit LIMIT) on an xyz source of `server`
// (tests/http_test_server.py) whose every tile is the same real one.
std::string planned_on_one_tile(const std::string& dir, const ServerProcess& server, int limit) {
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"" + server.url("/xyz/17/62093/50163.jpg?{z}/{x}/{y}") +
                                          "\"\ngsd = 0.3\nmax_zoom = 19\nyear = 2024\n");
    const auto out = dir + "/out";
    REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " -q").exit_code == 0);
    REQUIRE(run(sh_quote(binary()) + " plan " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml") + " --limit " + std::to_string(limit) + " -q")
                .exit_code == 0);
    return out;
}

// planned_on_one_tile, and fetched.
std::string fetched_on_one_tile(const std::string& dir, const ServerProcess& server, int limit) {
    const auto out = planned_on_one_tile(dir, server, limit);
    REQUIRE(run(sh_quote(binary()) + " fetch " + sh_quote(out) + " -q").exit_code == 0);
    return out;
}

} // namespace

TEST_CASE("a fetch SIGKILLed in the middle of a batch keeps the images it wrote: the rerun neither fetches nor writes them again (red-team round 26)") {
    const auto dir = fresh_dir("fetch-kill-mid-batch");
    // Every tile the same real one, 30 ms a request: the batch takes seconds at four in flight.
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles"), "--latency-ms", "30"});
    const auto out = planned_on_one_tile(dir, server, 150);
    const auto jobs = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs");
    REQUIRE(jobs >= 100); // one batch at the default --batch (512)
    const auto images = [&] {
        std::size_t n = 0;
        for (const auto& part : fs::directory_iterator(out))
            if (part.is_directory() && part.path().filename().string().starts_with("images"))
                for (const auto& f : fs::directory_iterator(part.path())) n += f.path().extension() == ".jpg";
        return n;
    };
    const auto pid = start_process({binary(), "fetch", out, "--in-flight", "4", "-q"}, dir + "/fetch.err");
    const auto end = kill_when(pid, [&] { return images() >= 50; }, std::chrono::seconds(60));
    INFO(read_file(dir + "/fetch.err"));
    REQUIRE(end == -SIGKILL); // killed mid-batch, not ended
    const auto recorded = sql_column(out + "/state.sqlite", "SELECT 'images' || part || '/' || stem || '.jpg' FROM jobs WHERE status = 'fetched'");
    MESSAGE(images() << " images on disk at the kill, " << recorded.size() << " recorded");
    CHECK(recorded.size() >= 30); // before: 0, the batch not yet recorded
    std::map<std::string, ino_t> inode;
    for (const auto& path : recorded) {
        struct stat st {};
        REQUIRE(::stat((out + "/" + path).c_str(), &st) == 0);
        inode[path] = st.st_ino;
    }
    const auto rerun = run(sh_quote(binary()) + " fetch " + sh_quote(out) + " --in-flight 16 -q");
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'fetched'") == jobs);
    for (const auto& [path, ino] : inode) {
        struct stat st {};
        REQUIRE(::stat((out + "/" + path).c_str(), &st) == 0);
        CHECK_MESSAGE(st.st_ino == ino, path); // not written again
    }
}

TEST_CASE("partial files of a killed run whose PID now names another program are removed by the rerun (red-team round 26)") {
    const auto out = fresh_dir("partials-pid-reused") + "/out";
    const auto first = build(out, "--limit 20 --format both -q");
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    // The killed writer's PID, after a reboot, is some other program's, started after the
    // files were last written: a sleep here, and the files a minute old.
    const auto other = start_process({"/bin/sleep", "60"});
    const auto suffix = ".partial-" + std::to_string(other) + "-1";
    std::vector<std::string> partials{out + "/meta.jsonl" + suffix, out + "/report.json" + suffix, out + "/images1/x.jpg" + suffix,
                                      out + "/meta1/x.pickle" + suffix};
    for (const auto& p : partials) {
        write_file(p, "half");
        fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::minutes(1));
    }
    // And one that process may be writing (modified since it started): a report's beside a build, left alone.
    const auto live = out + "/report.html" + suffix;
    write_file(live, "being written");
    const auto rerun = build(out, "--limit 20 --format both -q");
    const bool live_kept = fs::exists(live);
    ::kill(other, SIGKILL);
    wait_process(other);
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
    for (const auto& p : partials) CHECK_MESSAGE(!fs::exists(p), p); // before: each stayed, run after run
    CHECK(live_kept);
}

TEST_CASE("OUT under a linked folder builds and resumes; OUT named file:x is that folder, not ./x (red-team round 27)") {
    const auto dir = fresh_dir("out-names");
    // A folder reached through a link (as /home -> /data/home): SQLite's NOFOLLOW refused every link in the path.
    fs::create_directories(dir + "/real");
    fs::create_directory_symlink(dir + "/real", dir + "/linked");
    const auto linked = dir + "/linked/out";
    const auto first = build(linked, "--limit 10 -q");
    CHECK_MESSAGE(first.exit_code == 0, first.err); // before: "state.sqlite: cannot open (unable to open database file)"
    CHECK(fs::exists(dir + "/real/out/state.sqlite"));
    const auto again = build(linked, "--limit 10 -q");
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    CHECK(run(sh_quote(binary()) + " status " + sh_quote(linked)).exit_code == 0);
    // `-o file:x` beside another build in ./x: SQLite read the name as a URI for ./x's state DB.
    REQUIRE(build(dir + "/x", "--limit 10 --seed 5 -q").exit_code == 0);
    const auto other_db = read_file(dir + "/x/state.sqlite");
    const auto named = run("cd " + sh_quote(dir) + " && timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) +
                           " -o file:x --sources " + sh_quote(monaco().sources) + " --limit 10 -q");
    CHECK_MESSAGE(named.exit_code == 0, named.err); // before: refused with ./x's options, or written into ./x
    CHECK(fs::exists(dir + "/file:x/state.sqlite"));
    CHECK(fs::exists(dir + "/file:x/SkyScript_train_unfiltered.csv"));
    CHECK(read_file(dir + "/x/state.sqlite") == other_db);
    CHECK_FALSE(fs::exists(dir + "/x/catalog.gpkg.partial"));
}

TEST_CASE("an option's file given as LINK/../FILE is the file the kernel reads, not ./FILE (red-team round 27)") {
    const auto dir = fresh_dir("dotdot-after-link");
    fs::create_directories(dir + "/data/run");
    fs::create_directory_symlink(dir + "/data/run", dir + "/lnk");
    const auto monaco_sources = read_file(monaco().sources);
    write_file(dir + "/data/sources.toml", monaco_sources); // what `cat lnk/../sources.toml` shows: alias RENDER
    auto other = monaco_sources;
    other.replace(other.find("RENDER"), 6, "OTHER");
    write_file(dir + "/sources.toml", other); // a namesake where folding the text leads
    const auto r = run("cd " + sh_quote(dir) + " && timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) +
                       " -o out --sources lnk/../sources.toml --limit 10 -q");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto sources = sql_column(dir + "/out/state.sqlite", "SELECT DISTINCT source FROM jobs");
    CHECK(sources == std::vector<std::string>{"RENDER"}); // before: OTHER, the namesake's
}

TEST_CASE("a fetch run from another folder than a relative raster path's: told so, not that the raster changed and to remove the state DB (red-team round 27)") {
    const auto dir = fresh_dir("relative-raster");
    fs::create_directories(dir + "/project");
    fs::create_directories(dir + "/elsewhere");
    fs::copy_file(monaco().raster, dir + "/project/render.tif");
    write_file(dir + "/project/sources.toml", "[[source]]\nalias = \"R\"\nkind = \"gdal\"\npath = \"render.tif\"\nyear = 2021\n");
    const auto b = sh_quote(binary());
    REQUIRE(run("cd " + sh_quote(dir + "/project") + " && " + b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o ../out -q").exit_code == 0);
    REQUIRE(run("cd " + sh_quote(dir + "/project") + " && " + b + " plan ../out --sources sources.toml --limit 10 -q").exit_code == 0);
    const auto r = run("cd " + sh_quote(dir + "/elsewhere") + " && " + b + " fetch ../out -q");
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the raster of source R, render.tif, is not there from this folder") != std::string::npos);
    CHECK(r.err.find("remove") == std::string::npos); // before: "... changed (... -> missing) ...; remove out/state.sqlite to start over"
    CHECK(lines(r.err).size() == 1);
    CHECK(run("cd " + sh_quote(dir + "/project") + " && " + b + " fetch ../out -q").exit_code == 0);
}

TEST_CASE("a fetch whose PROJ cannot read its database (out of file descriptors) stops, its jobs left planned, not failed for good (red-team round 27)") {
    const auto dir = fresh_dir("fetch-proj-fds");
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles")});
    const auto out = planned_on_one_tile(dir, server, 40);
    const auto jobs = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs");
    const auto starved = run("bash -c " + sh_quote("ulimit -n 20; " + sh_quote(binary()) + " fetch " + sh_quote(out) + " -q"));
    INFO(starved.err);
    CHECK(starved.exit_code != 0);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE reason LIKE '%PROJ%'") == 0); // before: every job, failed for good
    const auto rerun = run(sh_quote(binary()) + " fetch " + sh_quote(out) + " -q");
    CHECK_MESSAGE(rerun.exit_code == 0, rerun.err); // before: "0 images", exit 1, until --retry-failed
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'fetched'") == jobs);
}

TEST_CASE("a gdal fetch whose PROJ cannot read its database (PROJ_DATA naming an empty folder) stops, its jobs left planned, not failed for good") {
    const auto dir = fresh_dir("fetch-gdal-proj-db");
    const auto out = dir + "/out", b = sh_quote(binary());
    REQUIRE(run(b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --bbox " + monaco_box + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(out) + " --sources " + sh_quote(monaco_sources(dir)) + " --limit 20 -q").exit_code == 0);
    const auto jobs = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs");
    REQUIRE(jobs > 5);
    fs::create_directories(dir + "/no-proj");
    const auto blind = run("PROJ_DATA=" + sh_quote(dir + "/no-proj") + " PROJ_LIB=" + sh_quote(dir + "/no-proj") + " timeout 300 " + b + " fetch " + sh_quote(out) + " -q");
    INFO(blind.err);
    CHECK(blind.exit_code != 0); // before: 0, every job failed for good as "bad warp options (resampling `bilinear`?)"
    check_one_line(blind, "PROJ cannot read EPSG:");
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'failed'") == 0);
    const auto rerun = run("timeout 300 " + b + " fetch " + sh_quote(out) + " -q");
    CHECK_MESSAGE(rerun.exit_code == 0, rerun.err);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'fetched'") == jobs);
}

TEST_CASE("a catalog made by `extract --bbox`, planned by `plan OUT`: the bare command goes on from it, not extracting it again over itself") {
    const auto dir = fresh_dir("extract-then-plan-then-build");
    const auto out = dir + "/out", b = sh_quote(binary()), pbf = sh_quote(data("osm/monaco-latest.osm.pbf"));
    REQUIRE(run(b + " extract " + pbf + " -o " + sh_quote(out) + " --bbox " + monaco_box + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(out) + " --sources " + sh_quote(monaco_sources(dir)) + " --limit 20 -q").exit_code == 0);
    const auto created = sql_column(out + "/catalog.gpkg", "SELECT value FROM skyscript_meta WHERE key = 'created'");
    REQUIRE(created.size() == 1);
    // Before: the catalog was extracted again (without the box the plan recorded as none), over
    // the one the plan was made from, and the build refused: "is not the catalog OUT was planned from".
    const auto r = run("timeout 300 " + b + " " + pbf + " -o " + sh_quote(out) + " --sources " + sh_quote(monaco_sources(dir)) + " --limit 20 -q");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(sql_column(out + "/catalog.gpkg", "SELECT value FROM skyscript_meta WHERE key = 'created'") == created);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status != 'written'") == 0);
}

TEST_CASE("an xyz fetch out of file descriptors stops in one line with its jobs planned, not failed as 'Couldn't connect to server'; a low soft limit is raised (red-team round 28)") {
    const auto dir = fresh_dir("fetch-out-of-fds");
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles")});
    const auto out = planned_on_one_tile(dir, server, 300);
    const auto db = out + "/state.sqlite";
    const auto jobs = sql_int(db, "SELECT count(*) FROM jobs");
    REQUIRE(jobs > 100);
    const auto b = sh_quote(binary());
    // A hard limit of 30: the engine's sockets run out (libcurl: "Couldn't connect to server").
    const auto starved = run("bash -c " + sh_quote("ulimit -n 30; " + b + " fetch " + sh_quote(out) + " -q"));
    INFO(starved.err);
    check_one_line(starved, "out of file descriptors"); // before: exit 0 or a PROJ line, jobs failed blaming the server
    CHECK(starved.err.find("proj_create") == std::string::npos); // PROJ's own log lines, twice a job, are not printed
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'failed'") == 0);
    // A soft limit of 30 under a higher hard one: raised, the fetch goes through.
    const auto soft = run("bash -c " + sh_quote("ulimit -Sn 30; " + b + " fetch " + sh_quote(out) + " -q"));
    CHECK_MESSAGE(soft.exit_code == 0, soft.err);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'fetched'") == jobs);
}

TEST_CASE("a stage run with stdout or stderr closed writes nothing into OUT's files: build.lock keeps naming its holder (red-team round 28)") {
    const auto dir = fresh_dir("closed-stdout");
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles")});
    const auto out = fetched_on_one_tile(dir, server, 20);
    const auto b = sh_quote(binary());
    for (const char* closed : {">&-", "2>&-"}) {
        CAPTURE(closed);
        const auto r = run(b + " write " + sh_quote(out) + " " + closed);
        CHECK(r.exit_code == 0);
        const auto lock = read_file(out + "/build.lock");
        CHECK(lock.starts_with("process ")); // before, with stdout closed: "write: 17 meta files written now; ..."
        CHECK(lines(lock).size() == 1);
    }
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'") > 5);
}

TEST_CASE("a build whose stdout reader is gone (a closed pipe: | head, a pager quit) goes on to its end (red-team round 28)") {
    const auto dir = fresh_dir("closed-pipe");
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles")});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"" + server.url("/xyz/17/62093/50163.jpg?{z}/{x}/{y}") +
                                          "\"\ngsd = 0.3\nmax_zoom = 19\nyear = 2024\n");
    const auto out = dir + "/out";
    // The pipe's reader closed before the build starts: its first line on stdout meets EPIPE (and SIGPIPE, restored to its default for the child).
    const auto r = run("/usr/bin/python3 -c " +
                       sh_quote("import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\n"
                                "p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)\nprint(p.returncode)\nsys.stderr.write(p.stderr.decode())\n") +
                       " " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                       sh_quote(dir + "/sources.toml") + " --limit 20");
    INFO(r.err);
    CHECK(r.out == "0\n"); // before: -13, SIGPIPE after the extract's summary line, nothing said
    CHECK(fs::exists(out + "/SkyScript_train_unfiltered.csv"));
    CHECK(r.err.find("warning") == std::string::npos); // a reader that left is no failure to report
}

TEST_CASE("the progress bar on a narrow terminal and on one without escapes (TERM=dumb): cut to its width, no ESC sequences (red-team round 28)") {
    const auto dir = fresh_dir("progress-terminal");
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles"), "--latency-ms", "20"});
    const auto out = planned_on_one_tile(dir, server, 40);
    for (const std::string term : {"dumb", "xterm"}) {
        CAPTURE(term);
        REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"UPDATE jobs SET status = 'planned'\"").exit_code == 0);
        // A pseudo-terminal 40 columns wide (script(1)), the fetch drawing its bar on it.
        const auto log = dir + "/" + term + ".log";
        const auto r = run("TERM=" + term + " script -qfec " + sh_quote("stty cols 40; " + sh_quote(binary()) + " fetch " + sh_quote(out) + " --in-flight 4") + " " +
                           sh_quote(log) + " > /dev/null");
        REQUIRE(r.exit_code == 0);
        auto text = read_file(log);
        text = text.substr(text.find('\n') + 1); // script's own first line
        CHECK((text.find("\x1b[K") == std::string::npos) == (term == "dumb")); // before: ESC [K on a dumb terminal too
        std::size_t widest = 0, bars = 0;
        for (std::size_t start = 0; start < text.size();) {
            const auto end = text.find_first_of("\r\n", start);
            const auto piece = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (piece.starts_with("fetch [")) widest = std::max(widest, piece.size() - (term == "dumb" ? 0 : 3)), ++bars; // less its ESC [K
            if (end == std::string::npos) break;
            start = end + 1;
        }
        CHECK(bars > 0);
        CHECK(widest <= 39); // before: 70-odd columns, wrapping and leaving a copy a redraw
    }
}

TEST_CASE("a gdal source naming a band its raster lacks: sources --check says so, and the fetch stops in one line instead of failing every job (red-team round 29)") {
    const auto dir = fresh_dir("gdal-missing-band");
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + monaco().raster + "\"\nyear = 2021\nbands = [5, 1, 1]\n");
    const auto b = sh_quote(binary());
    const auto check = run(b + " sources --sources " + sh_quote(dir + "/sources.toml") + " --check");
    CHECK(check.exit_code != 0); // before: "usable: 3 band(s) Byte"
    CHECK(check.out.find("band 5 does not exist (the raster has 3") != std::string::npos);
    const auto out = dir + "/out";
    const auto r = run("timeout 300 " + b + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                       sh_quote(dir + "/sources.toml") + " --bbox " + monaco_box + " --limit 20 -q");
    INFO(r.err);
    CHECK(r.exit_code != 0); // before: 0, every job failed "band 5 does not exist"
    CHECK(r.err.find("band 5 does not exist") != std::string::npos);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'failed'") == 0);
}

TEST_CASE("a raster, or a VRT's member, rewritten in place during a fetch stops it, its new pixels and read errors unrecorded: restored, the build ends as a clean one (red-team round 29)") {
    const auto& m = monaco();
    for (const bool member : {false, true}) {
        CAPTURE(member);
        const auto dir = fresh_dir(member ? "vrt-member-rewritten-mid-fetch" : "raster-rewritten-mid-fetch");
        const auto raster = dir + "/r.tif", other = dir + "/other.tif", vrt = dir + "/mosaic.vrt";
        REQUIRE(run("cp -p " + sh_quote(m.raster) + " " + sh_quote(raster)).exit_code == 0);
        REQUIRE(run("gdal_translate -q -scale 0 255 255 0 -co COMPRESS=DEFLATE -co TILED=YES -co PHOTOMETRIC=RGB " + sh_quote(m.raster) + " " + sh_quote(other)).exit_code == 0);
        if (member) REQUIRE(run("gdalbuildvrt -q " + sh_quote(vrt) + " " + sh_quote(raster)).exit_code == 0);
        write_file(dir + "/s.toml", "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + (member ? vrt : raster) + "\"\nyear = 2021\n");
        const auto b = sh_quote(binary()), pbf = sh_quote(data("osm/monaco-latest.osm.pbf"));
        const std::string options = " --sources " + sh_quote(dir + "/s.toml") + " --limit 300 -q";
        const auto clean = dir + "/clean", out = dir + "/out";
        REQUIRE(run("timeout 300 " + b + " " + pbf + " -o " + sh_quote(clean) + options).exit_code == 0);
        REQUIRE(run(b + " extract " + pbf + " -o " + sh_quote(out) + " -q").exit_code == 0);
        REQUIRE(run(b + " plan " + sh_quote(out) + options).exit_code == 0);
        const auto images = [&] {
            std::size_t n = 0;
            std::error_code ec;
            for (const auto& f : fs::directory_iterator(out + "/images1", ec)) n += f.path().extension() == ".jpg";
            return n;
        };
        const auto pid = start_process({binary(), "fetch", out, "--in-flight", "1", "-q"}, dir + "/fetch.err");
        for (int i = 0; i < 3000 && images() < 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(run("cp " + sh_quote(other) + " " + sh_quote(raster)).exit_code == 0); // in place: the file the fetch has open
        const int end = wait_exit(pid);
        const auto err = read_file(dir + "/fetch.err");
        INFO(err);
        CHECK(end == 1); // before: 0, the other raster's pixels and its read errors recorded
        CHECK(err.find("changed during the fetch") != std::string::npos);
        CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'failed'") == 0);
        // The raster restored as it was (size and time too): the fetch goes on and the images are the clean build's.
        REQUIRE(run("cp -p " + sh_quote(m.raster) + " " + sh_quote(raster)).exit_code == 0);
        REQUIRE(run("timeout 300 " + b + " " + pbf + " -o " + sh_quote(out) + options).exit_code == 0);
        const auto stems = sql_column(out + "/state.sqlite", "SELECT part || '/' || stem FROM jobs WHERE status = 'written'");
        REQUIRE(stems.size() == static_cast<std::size_t>(sql_int(clean + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'")));
        std::size_t differ = 0;
        for (const auto& s : stems) {
            const auto name = "/images" + s.substr(0, s.find('/')) + "/" + s.substr(s.find('/') + 1) + ".jpg";
            differ += read_file(out + name) != read_file(clean + name);
        }
        CHECK(differ == 0); // before: hundreds from the other raster
    }
}

TEST_CASE("a split out of file descriptors says so in its one line whatever file it was at, and sends no job back (red-team round 30)") {
    const auto dir = fresh_dir("split-out-of-fds");
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles")});
    const auto out = fetched_on_one_tile(dir, server, 60);
    const auto b = sh_quote(binary());
    REQUIRE(run(b + " write " + sh_quote(out) + " -q").exit_code == 0);
    const auto written = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'");
    REQUIRE(written > 20);
    int refused = 0;
    for (int n = 8; n <= 24; ++n) { // each limit runs out at another file: the CSVs, COCO's scratch files, the hf and webdataset ones
        CAPTURE(n);
        // The descriptors this test process holds (and its children inherit) closed first, so each limit means the same.
        const auto r = run("bash -c " + sh_quote("for f in /proc/$$/fd/*; do f=${f##*/}; [ \"$f\" -gt 2 ] && eval \"exec $f>&-\" 2>/dev/null; done; ulimit -n " +
                                                 std::to_string(n) + "; " + b + " split " + sh_quote(out) + " --format all -q"));
        if (r.exit_code == 0) continue;
        ++refused;
        CHECK(lines(r.err).size() == 1);
        CHECK_MESSAGE(r.err.find("Too many open files") != std::string::npos, r.err); // before: "cannot create the COCO annotations' scratch file", no reason
        CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'") == written);
    }
    CHECK(refused > 3);
}

TEST_CASE("a source whose images come out one flat colour (a stretch that misses the raster, a server's blank tiles) is warned of in the fetch's summary and counted") {
    const auto dir = fresh_dir("flat-images");
    const auto b = sh_quote(binary());
    const auto build = [&](const std::string& name, const std::string& sources_toml) {
        write_file(dir + "/" + name + ".toml", sources_toml);
        const auto out = dir + "/" + name;
        const auto r = run("timeout 300 " + b + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
                           sh_quote(dir + "/" + name + ".toml") + " --bbox " + monaco_box + " --limit 60");
        INFO(r.out, r.err);
        REQUIRE(r.exit_code == 0); // the images are kept: only said of
        return std::pair{r.out, sql_column(out + "/state.sqlite", "SELECT summary FROM stages WHERE stage = 'fetch'").at(0)};
    };
    // The rendering in 16 bits (0..4000), read with a stretch far above its values: every pixel black.
    REQUIRE(run("gdal_translate -q -ot UInt16 -scale 0 255 0 4000 " + sh_quote(monaco().raster) + " " + sh_quote(dir + "/deep.tif")).exit_code == 0);
    const auto gdal = [&](const std::string& stretch) {
        return "[[source]]\nalias = \"DEEP\"\nkind = \"gdal\"\npath = \"" + dir + "/deep.tif\"\nyear = 2021\nlicence = \"CC0-1.0\"\n" + stretch;
    };
    const auto [missed, missed_stats] = build("missed", gdal("stretch = [50000, 60000]\n"));
    CHECK(missed.find("warning: source DEEP: ") != std::string::npos); // before: nothing, exit 0, a dataset of black squares
    CHECK(missed.find(" images fetched are one flat colour") != std::string::npos);
    const auto fetched = nlohmann::json::parse(missed_stats).value("fetched", 0);
    CHECK(fetched > 10);
    CHECK(nlohmann::json::parse(missed_stats).value("flat", -1) == fetched);
    const auto [fitting, fitting_stats] = build("fitting", gdal("stretch = [0, 4000]\n"));
    CHECK(fitting.find("flat colour") == std::string::npos);
    CHECK(nlohmann::json::parse(fitting_stats).value("flat", -1) == 0);

    // An xyz server whose every tile is one blank grey (what some answer where they have no
    // imagery): the images are made a band at a time, straight to JPEG.
    fs::create_directories(dir + "/tiles");
    REQUIRE(run("gdal_create -q -of JPEG -outsize 256 256 -bands 3 -burn 200 " + sh_quote(dir + "/tiles/blank.jpg")).exit_code == 0);
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", dir + "/tiles"});
    const auto xyz = [&](const std::string& tile) {
        return "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"" + server.url(tile + "?{z}/{x}/{y}") + "\"\ngsd = 0.3\nmax_zoom = 19\nyear = 2024\nlicence = \"CC0-1.0\"\n";
    };
    const auto [blank, blank_stats] = build("blank", xyz("/xyz/blank.jpg"));
    CHECK(blank.find("warning: source T: ") != std::string::npos);
    CHECK(nlohmann::json::parse(blank_stats).value("flat", -1) == nlohmann::json::parse(blank_stats).value("fetched", 0));
    ServerProcess real({"/usr/bin/python3", source_dir() + "/tests/http_test_server.py", "--root", data("tiles")});
    write_file(dir + "/real.toml", "[[source]]\nalias = \"T\"\nkind = \"xyz\"\nurl = \"" + real.url("/xyz/17/62093/50163.jpg?{z}/{x}/{y}") +
                                       "\"\ngsd = 0.3\nmax_zoom = 19\nyear = 2024\nlicence = \"CC0-1.0\"\n");
    const auto r = run("timeout 300 " + b + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/real") + " --sources " +
                       sh_quote(dir + "/real.toml") + " --bbox " + monaco_box + " --limit 60");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("flat colour") == std::string::npos);
    CHECK(nlohmann::json::parse(sql_column(dir + "/real/state.sqlite", "SELECT summary FROM stages WHERE stage = 'fetch'").at(0)).value("flat", -1) == 0);
}

TEST_CASE("a plan with no job is not finished: the rerun says so again and exits 1, plan OUT too, status does not say finished, and other sources are taken (red-team round 31)") {
    const auto dir = fresh_dir("plan-no-job");
    // A raster in Minnesota for a build of Monaco: no object can be imaged.
    write_file(dir + "/far.toml", "[[source]]\nalias = \"FAR\"\nkind = \"gdal\"\npath = \"" + data("imagery/orthophoto.tif") + "\"\nyear = 2021\n");
    const auto out = dir + "/out";
    const auto b = sh_quote(binary());
    const auto bare = "timeout 300 " + b + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " -q --sources ";
    const auto first = run(bare + sh_quote(dir + "/far.toml"));
    check_one_line(first, "the plan has no job");
    // As an older version left it: the plan of no job recorded finished. Planned again all the same.
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"INSERT INTO stages VALUES ('plan', '2026-01-01T00:00:00Z', 1, '{}')\"").exit_code == 0);
    const auto again = run(bare + sh_quote(dir + "/far.toml"));
    check_one_line(again, "the plan has no job"); // before: "no image was written (see the failure reasons above ...)"
    const auto stage = run("timeout 300 " + b + " plan " + sh_quote(out) + " -q");
    check_one_line(stage, "the plan has no job"); // before: exit 0, nothing said
    const auto status = run(b + " status " + sh_quote(out));
    CHECK(status.out.find("finished (") == std::string::npos);
    // Sources that cover it: the plan had done no work to mix them with (before: refused).
    write_file(dir + "/near.toml", "[[source]]\nalias = \"IMG\"\nkind = \"gdal\"\npath = \"" + monaco().raster + "\"\nyear = 2021\n");
    const auto near = run(bare + sh_quote(dir + "/near.toml") + " --limit 10");
    CHECK_MESSAGE(near.exit_code == 0, near.err);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'") > 0);
    // A sample that draws nothing is said as such, not blamed on the sources.
    const auto none = run("timeout 300 " + b + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/none") +
                          " -q --all-below 0 --cells 0 --rare-min 0 --sources " + sh_quote(dir + "/near.toml"));
    check_one_line(none, "the plan has no job: the sample drew none of the ");
}
