#include "pipeline_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <regex>
#include <thread>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace skyscript::test {

namespace fs = std::filesystem;

const Rendering& monaco() {
    static const Rendering r = [] {
        const auto script = source_dir() + "/tests/render_osm_raster.sh";
        Rendering m;
        m.dir = shared_dir("pipeline-monaco", {binary(), script, data("osm/monaco-latest.osm.pbf")}, [&](const std::string& dir) {
            const auto extract = run(sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q -o " + sh_quote(dir));
            REQUIRE_MESSAGE(extract.exit_code == 0, extract.err);
            const auto render = run(sh_quote(script) + " " + sh_quote(dir + "/catalog.gpkg") + " " + sh_quote(dir + "/render.tif") + " " + monaco_box + " 0.5");
            REQUIRE_MESSAGE(render.exit_code == 0, render.err);
            write_file(dir + "/sources.toml", "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + dir + "/render.tif\"\nyear = 2021\n");
        });
        m.catalog = m.dir + "/catalog.gpkg";
        m.raster = m.dir + "/render.tif";
        m.sources = m.dir + "/sources.toml";
        return m;
    }();
    return r;
}

const std::string& rendering_tiles() {
    static const std::string dir = shared_dir("pipeline-xyz-tiles", {monaco().raster}, [](const std::string& d) {
        const auto tiles = run("gdal2tiles.py -q --xyz -z 17 --processes=2 -r bilinear " + sh_quote(monaco().raster) + " " + sh_quote(d));
        REQUIRE_MESSAGE(tiles.exit_code == 0, tiles.err);
    });
    return dir;
}

CommandResult build(const std::string& out, const std::string& extra) {
    return run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) +
               " --sources " + sh_quote(monaco().sources) + " " + extra);
}

std::map<std::string, std::string> dataset_files(const std::string& out) {
    std::map<std::string, std::string> files;
    for (const auto& dir : fs::directory_iterator(out)) {
        const auto name = dir.path().filename().string();
        if (!dir.is_directory() || !(name.starts_with("images") || name.starts_with("meta"))) continue;
        for (const auto& f : fs::directory_iterator(dir.path())) files[name + "/" + f.path().filename().string()] = read_file(f.path().string());
    }
    for (const char* f : {"SkyScript_train_unfiltered.csv", "meta.jsonl"}) files[f] = read_file(out + "/" + f);
    return files;
}

pid_t start_process(const std::vector<std::string>& argv) { return start_process(argv, "/dev/null"); }

int run_and_kill(const std::vector<std::string>& argv, std::chrono::milliseconds delay) {
    const pid_t pid = start_process(argv);
    const auto deadline = std::chrono::steady_clock::now() + delay;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

pid_t start_process(const std::vector<std::string>& argv, const std::string& stderr_path) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(devnull, 1);
        ::dup2(err, 2);
        // Signals as a terminal's foreground job has them: a test run started as a script's
        // background job has SIGINT ignored, which the build would keep.
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGHUP, SIG_DFL);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

namespace {

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }

using steady = std::chrono::steady_clock;

} // namespace

int wait_process(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return decode_status(status);
}

int kill_when(pid_t pid, const std::function<bool()>& ready, std::chrono::seconds limit, int signal) {
    const auto deadline = steady::now() + limit;
    int status = 0;
    while (steady::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return decode_status(status);
        bool now = false;
        try {
            now = ready();
        } catch (const std::exception&) { // e.g. the state DB has no tables yet
        }
        if (now) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::kill(pid, signal);
    // A run that does not stop on `signal` within 30 s is killed, and says so by its status.
    for (int i = 0; signal != SIGKILL && i < 3000; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return decode_status(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    return wait_process(pid);
}

bool holds_open(pid_t pid, const std::string& path) {
    std::error_code ec;
    const auto wanted = fs::weakly_canonical(path, ec).string();
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code link_ec;
        if (fs::read_symlink(fd.path(), link_ec).string() == wanted) return true;
    }
    return false;
}

std::map<std::string, std::string> stage_rows(const std::string& out) {
    std::map<std::string, std::string> rows;
    if (!fs::exists(out + "/state.sqlite")) return rows;
    try {
        for (const auto& r : sql_column(out + "/state.sqlite", "SELECT stage || '=' || finished_at || '|' || seconds FROM stages")) {
            const auto eq = r.find('=');
            rows[r.substr(0, eq)] = r.substr(eq + 1);
        }
    } catch (const std::exception&) { // no tables yet
    }
    return rows;
}

std::string stage_at_kill(const std::string& out, const std::map<std::string, std::string>& before) {
    const auto now = stage_rows(out);
    for (const char* once : {"extract", "plan"})
        if (!now.count(once)) return once;
    for (const char* every : {"fetch", "write", "split", "report"})
        if (!now.count(every) || (before.count(every) && before.at(every) == now.at(every))) return every;
    return "";
}

std::map<std::string, double> stage_seconds(const std::string& out) {
    std::map<std::string, double> seconds;
    for (const auto& r : sql_column(out + "/state.sqlite", "SELECT stage || '=' || seconds FROM stages")) {
        const auto eq = r.find('=');
        seconds[r.substr(0, eq)] = std::stod(r.substr(eq + 1));
    }
    return seconds;
}

namespace {

// Images under OUT's parts; with `since`, only those written at or after it (a rerun writes
// again the images a killed run wrote but did not record: they count as its work).
std::size_t image_count(const std::string& out, std::optional<fs::file_time_type> since = std::nullopt) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(out, ec)) {
        if (!dir.is_directory() || !dir.path().filename().string().starts_with("images")) continue;
        for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
            if (f.path().extension() != ".jpg") continue;
            std::error_code time_ec;
            n += !since || fs::last_write_time(f.path(), time_ec) >= *since;
        }
    }
    return n;
}

// Now, as file times go: a little before, since the kernel stamps files with a clock that may
// lag by a tick; a pause first, so that files of the run before are older.
fs::file_time_type file_time_now() {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return fs::file_time_type::clock::now() - std::chrono::milliseconds(10);
}

} // namespace

StageKill kill_in_stage(const std::vector<std::string>& argv, const std::string& out, const std::string& stage, std::mt19937& rng,
                        const std::map<std::string, double>& seconds, double share) {
    static const std::map<std::string, std::string> stage_before{{"write", "fetch"}, {"split", "write"}, {"report", "split"}};
    const auto before = stage_rows(out);
    const auto start = file_time_now();
    std::int64_t planned = 0;
    if (stage == "fetch") planned = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'planned'");
    // Extract and plan run once: finished, a run would pass them by and only be killed (or end) later.
    if ((stage == "extract" || stage == "plan") && before.count(stage)) return {};
    if (stage == "fetch" && before.count("plan") && planned == 0) return {};
    // Fetch: a random number of new images, up to a third of what is left; the others: a random delay.
    const auto new_images = static_cast<std::size_t>(std::uniform_int_distribution<std::int64_t>(1, std::max<std::int64_t>(1, planned / 3))(rng));
    const auto length = stage == "fetch" || !seconds.count(stage) ? 0.0 : seconds.at(stage);
    const auto delay = std::chrono::duration_cast<steady::duration>(
        std::chrono::duration<double>(std::uniform_real_distribution<double>(0, share * length)(rng)));
    const pid_t pid = start_process(argv);
    std::optional<steady::time_point> seen;
    const auto working = [&] {
        if (stage == "extract") return holds_open(pid, out + "/catalog.gpkg.partial");
        if (stage == "plan") return holds_open(pid, out + "/catalog.gpkg") && stage_rows(out).count("extract"); // not extract's last moments
        if (stage == "fetch") return image_count(out, start) >= new_images;
        const auto& prev = stage_before.at(stage);
        const auto rows = stage_rows(out);
        return rows.count(prev) && (!before.count(prev) || before.at(prev) != rows.at(prev));
    };
    // Plan is told by the catalog it holds open. Once it is closed the plan is over: the kill
    // goes then, in the fetch's first moments, not wherever the catalog is opened again (the
    // report reads it): on a loaded machine a plan can end before a delay drawn from the
    // reference run's length, and a kill past the fetch left no fetch to kill. (Extract's
    // partial file is renamed, not just closed, at its end: its kills keep their delay.)
    StageKill k;
    k.end = kill_when(pid, [&] {
        if (!seen) {
            if (!working()) return false;
            seen = steady::now();
        }
        return steady::now() >= *seen + delay || (stage == "plan" && !holds_open(pid, out + "/catalog.gpkg"));
    });
    if (k.end == -SIGKILL) k.landed = stage_at_kill(out, before);
    return k;
}

bool merge_finished(const std::string& out) {
    if (!fs::exists(out + "/state.sqlite")) return false;
    const auto rows = sql_column(out + "/state.sqlite", "SELECT summary FROM stages WHERE stage = 'merge'");
    return !rows.empty() && rows[0].find("\"images\"") != std::string::npos;
}

MergeKill kill_merge(const std::vector<std::string>& argv, const std::string& out, const std::string& moment, std::size_t images) {
    REQUIRE((moment == "state DB" || moment == "images" || moment == "stages"));
    const auto before = stage_rows(out);
    const auto wanted = image_count(out) + images; // placed images are links: a shard's file times
    const pid_t pid = start_process(argv);
    MergeKill k;
    k.end = kill_when(pid, [&] {
        if (moment == "state DB") return holds_open(pid, out + "/state.sqlite.merging");
        if (moment == "images") return image_count(out) >= wanted;
        const auto rows = stage_rows(out);
        return rows.count("write") && (!before.count("write") || before.at("write") != rows.at("write"));
    });
    k.landed = k.end == -SIGKILL && (fs::exists(out + "/state.sqlite.merging") || (fs::exists(out + "/state.sqlite") && !merge_finished(out)));
    return k;
}

std::set<std::string> file_list(const std::string& dir) {
    std::set<std::string> files;
    for (const auto& f : fs::recursive_directory_iterator(dir))
        if (!f.is_directory()) files.insert(fs::relative(f.path(), dir).string());
    return files;
}

bool is_temporary_name(const std::string& relative_path) {
    const auto name = fs::path(relative_path).filename().string();
    static const std::regex cache_tmp(R"(\.tmp[0-9]*$)");
    return name.find(".partial") != std::string::npos || name.ends_with(".merging") || name.ends_with("-journal") ||
           std::regex_search(name, cache_tmp) || name.starts_with("scratch-");
}

std::vector<std::string> table_rows(const std::string& db_path, const std::string& table) {
    std::string select;
    for (const auto& column : sql_column(db_path, "SELECT name FROM pragma_table_info('" + table + "')"))
        select += (select.empty() ? "" : " || '|' || ") + std::string("quote(\"") + column + "\")";
    REQUIRE_MESSAGE(!select.empty(), db_path << ": no table " << table);
    auto rows = sql_column(db_path, "SELECT " + select + " FROM \"" + table + "\"");
    std::sort(rows.begin(), rows.end());
    return rows;
}

std::string comparable_report_json(const std::string& path) {
    auto j = nlohmann::json::parse(read_file(path));
    j.erase("generated_at");
    if (j.contains("catalog")) j["catalog"].erase("created");
    // Each stage's time, rate and summary are its last run's: a resumed build's differ.
    std::vector<std::string> stages;
    for (const auto& st : j["stages"]) stages.push_back(st["stage"]);
    std::sort(stages.begin(), stages.end());
    j["stages"] = stages;
    return j.dump(1);
}

std::string comparable_report_html(const std::string& path, const std::string& out) {
    auto html = read_file(path);
    const auto from = html.find("<h2>Stages</h2>");
    if (from != std::string::npos) {
        const auto to = html.find("</table>", from);
        html.erase(from, to == std::string::npos ? std::string::npos : to - from);
    }
    for (std::size_t at; (at = html.find(out)) != std::string::npos;) html.replace(at, out.size(), "OUT");
    static const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
    return std::regex_replace(html, time, "TIME");
}

namespace {

// SQLite's WAL files of the state DB come and go with its readers (a read-only connection, as
// this test's, leaves them): not files of the build.
std::set<std::string> build_files(const std::string& dir) {
    auto files = file_list(dir);
    files.erase("state.sqlite-wal");
    files.erase("state.sqlite-shm");
    return files;
}

} // namespace

void check_same_build(const std::string& got, const std::string& expected, Compare how) {
    const auto files = build_files(expected), got_files = build_files(got);
    for (const auto& f : files) CHECK_MESSAGE(got_files.count(f), "missing after the killed runs: " << f);
    for (const auto& f : got_files) CHECK_MESSAGE(files.count(f), "not in the uninterrupted build: " << f);
    for (const auto& f : got_files) CHECK_MESSAGE(!is_temporary_name(f), "temporary file left: " << got << "/" << f);
    for (const auto& f : files) CHECK_MESSAGE(!is_temporary_name(f), "temporary file left: " << expected << "/" << f);

    // Every kind of file is there to compare: a kind missing from both builds must not pass.
    std::map<std::string, int> kinds;
    for (const auto& f : files) {
        const auto name = fs::path(f).filename().string();
        if (f.starts_with("images") && name.ends_with(".jpg")) ++kinds["image"];
        else if (f.starts_with("meta") && name.ends_with(".pickle")) ++kinds["meta pickle"];
        else if (f.starts_with("webdataset/") && name.ends_with(".tar")) ++kinds["webdataset tar"];
        else if (f.starts_with("webdataset/") && name == "sizes.json") ++kinds["webdataset sizes.json"];
        else ++kinds[f];
    }
    for (const char* kind : {"image", "meta pickle", "meta.jsonl", "SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv",
                             "report.json", "report.html", "state.sqlite", "catalog.gpkg"})
        CHECK_MESSAGE(kinds[kind] > 0, "the uninterrupted build " << expected << " has no " << kind);
    if (fs::exists(expected + "/webdataset")) {
        CHECK(kinds["webdataset tar"] > 0);
        CHECK(kinds["webdataset sizes.json"] == 3);
    }
    for (const char* csv : {"SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv"})
        CHECK_MESSAGE(lines(read_file(expected + "/" + csv)).size() > 1, csv << " of " << expected << " has no row");

    // Byte for byte, but for files that hold times, paths or process ids, compared below.
    static const std::set<std::string> not_bytes{"state.sqlite", "catalog.gpkg", "build.lock", "report.json", "report.html"};
    std::size_t same = 0, compared = 0;
    for (const auto& f : files) {
        if (not_bytes.count(f) || !got_files.count(f)) continue;
        ++compared;
        const bool equal = read_file(got + "/" + f) == read_file(expected + "/" + f);
        CHECK_MESSAGE(equal, "differs: " << f);
        same += equal;
    }
    CHECK(same == compared);
    const auto db = got + "/state.sqlite", expected_db = expected + "/state.sqlite";
    if (how == Compare::whole) {
        CHECK(comparable_report_json(got + "/report.json") == comparable_report_json(expected + "/report.json"));
        CHECK(comparable_report_html(got + "/report.html", got) == comparable_report_html(expected + "/report.html", expected));
        // The state DB, table by table (a stage's row holds when and how long its last run took).
        for (const auto& table : sql_column(expected_db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
            if (table == "stages")
                CHECK(sql_column(db, "SELECT stage FROM stages ORDER BY stage") == sql_column(expected_db, "SELECT stage FROM stages ORDER BY stage"));
            else CHECK_MESSAGE(table_rows(db, table) == table_rows(expected_db, table), "state.sqlite table " << table);
        }
    } else {
        auto report = nlohmann::json::parse(read_file(got + "/report.json")), expected_report = nlohmann::json::parse(read_file(expected + "/report.json"));
        for (const char* run_dependent : {"generated_at", "stages", "options", "catalog", "tool"}) {
            report.erase(run_dependent);
            expected_report.erase(run_dependent);
        }
        CHECK(report.dump(1) == expected_report.dump(1));
        for (const char* table : {"jobs", "skipped"}) CHECK_MESSAGE(table_rows(db, table) == table_rows(expected_db, table), "state.sqlite table " << table);
    }
    CHECK(!table_rows(expected_db, "jobs").empty());
    CHECK_MESSAGE(table_rows(got + "/catalog.gpkg", "objects") == table_rows(expected + "/catalog.gpkg", "objects"), "catalog.gpkg objects");
}

} // namespace skyscript::test
