// The report and `status` (issue 11): report.json's counts equal an independent count over
// the files and the state DB (tests/count_dataset.py); Debian's headless chromium opens
// report.html from a file URL with the network off and renders it (headline numbers,
// every gallery image loaded, the SVG charts, no console message); the rates equal the
// ones the stages print; `status` on a build killed mid-fetch reports the DB's counts.

#include "pipeline/common/failure_class.hpp"
#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <thread>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace skyscript::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A process holding OUT's build lock as a run does (flock), standing in for one: its PID, to kill.
// One process: flock(1)'s child would keep the lock after flock itself was killed.
// Killed when it goes out of scope (a REQUIRE that throws leaves no holder behind); it waits
// until status sees the lock held.
class LockHolder {
public:
    explicit LockHolder(const std::string& out)
        : pid_(lines(run("/usr/bin/python3 -c " + sh_quote("import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\ntime.sleep(120)") +
                         " " + sh_quote(out + "/build.lock") + " >/dev/null 2>&1 & echo $!")
                         .out)
                   .at(0)),
          out_(out) {
        wait_for("true");
    }
    ~LockHolder() { release(); }
    LockHolder(const LockHolder&) = delete;
    LockHolder& operator=(const LockHolder&) = delete;
    void release() {
        if (pid_.empty()) return;
        run("kill " + pid_);
        pid_.clear();
        wait_for("false");
    }

private:
    void wait_for(const std::string& running) const {
        for (int i = 0; i < 300; ++i) {
            const auto st = run(sh_quote(binary()) + " status " + sh_quote(out_) + " --json");
            if (st.out.find("\"running\": " + running) != std::string::npos || (running == "false" && st.exit_code != 0)) return; // no build there to say it
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        FAIL_CHECK("status never said \"running\": " << running << " in 300 tries"); // not thrown: release() runs in the destructor
    }
    std::string pid_, out_;
};

// Two sources on Monaco's rendering: RENDER everywhere, WEST only west of 7.422 E (nodata
// elsewhere), each object asked of both, so the build has pairs from two sources, two
// years, and jobs that fail for want of imagery.
const std::string& two_sources() {
    static const std::string path = [] {
        const auto& m = monaco();
        const auto dir = fresh_dir("report-sources-" + std::to_string(::getpid()));
        write_file(dir + "/west.geojson", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":)"
                                          R"({"type":"Polygon","coordinates":[[[7.40,43.72],[7.422,43.72],[7.422,43.76],[7.40,43.76],[7.40,43.72]]]}}]})");
        const auto cut = run("gdalwarp -q -overwrite -cutline " + sh_quote(dir + "/west.geojson") + " -dstnodata 0 " + sh_quote(m.raster) + " " +
                             sh_quote(dir + "/west.tif"));
        REQUIRE_MESSAGE(cut.exit_code == 0, cut.err);
        const auto toml = dir + "/sources.toml";
        write_file(toml, "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2021\n\n[[source]]\nalias = \"WEST\"\n"
                         "kind = \"gdal\"\npath = \"" + dir + "/west.tif\"\nyear = 2023\n");
        return toml;
    }();
    return path;
}

const std::string build_flags = "--limit 150 --seed 5 --source-policy all"; // all: no fallback, so WEST fails east of its edge

struct Built {
    std::string out;
    CommandResult result;
};

// One build for the report cases: the bare command, report included.
const Built& built() {
    static const Built b = [] {
        Built x;
        x.out = fresh_dir("report-build-" + std::to_string(::getpid()));
        x.result = run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(x.out) +
                       " --sources " + sh_quote(two_sources()) + " " + build_flags);
        return x;
    }();
    return b;
}

json load_json(const std::string& path) { return json::parse(read_file(path)); }


// The number that `pattern`'s first group captures in `text`.
double captured(const std::string& text, const std::string& pattern) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(pattern)), pattern);
    return std::stod(m[1].str());
}

std::string chromium_prefix() {
    // The network off: a new, empty network namespace (unshare -rn works without root);
    // where that is not allowed, every request goes to a proxy that is not there.
    if (run("unshare -rn true").exit_code == 0) return "unshare -rn ";
    return "";
}

std::string chromium(const std::string& flags, const std::string& url, const std::string& log) {
    const auto prefix = chromium_prefix();
    const std::string no_proxy = prefix.empty() ? " --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>'" : "";
    return "timeout 120 " + prefix + "chromium --headless --disable-gpu --no-sandbox --no-first-run --disable-extensions --hide-scrollbars "
           "--user-data-dir=" + sh_quote(fs::path(log).parent_path().string() + "/chromium-profile") +
           " --enable-logging=stderr --v=0 --virtual-time-budget=15000 --window-size=1280,4000" + no_proxy + " " + flags + " " + sh_quote(url) +
           " 2>" + sh_quote(log);
}

// Every console line chromium logged for the page itself (not its own chrome:// pages).
std::vector<std::string> page_console_lines(const std::string& log) {
    std::vector<std::string> out;
    for (const auto& l : lines(read_file(log)))
        if (l.find(":CONSOLE") != std::string::npos && l.find("source: file://") != std::string::npos) out.push_back(l);
    return out;
}

std::string attribute_of(const std::string& dom, const std::string& element_pattern, const std::string& attribute) {
    std::smatch m;
    if (!std::regex_search(dom, m, std::regex(element_pattern))) return "<no element " + element_pattern + ">";
    const std::string tag = m.str(0);
    std::smatch a;
    if (!std::regex_search(tag, a, std::regex(attribute + "=\"([^\"]*)\""))) return "<no " + attribute + ">";
    return a[1].str();
}

std::int64_t count_or_minus_one(const std::string& db, const std::string& sql) {
    try {
        return sql_int(db, sql);
    } catch (const std::exception&) { // not created yet, or its tables not yet
        return -1;
    }
}

} // namespace

TEST_CASE("report.json's counts equal an independent count over the files and the state DB") {
    const auto& b = built();
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    CHECK(b.result.out.find("report: ") != std::string::npos);
    const auto report = load_json(b.out + "/report.json");
    const auto count = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/count_dataset.py") + " " + sh_quote(b.out));
    REQUIRE_MESSAGE(count.exit_code == 0, count.err);
    const auto c = json::parse(count.out);
    INFO(count.out);

    // The build is worth counting: two sources, failures, skips.
    REQUIRE(c["pairs"].get<int>() > 50);
    REQUIRE(c["failed"].get<int>() > 0);
    REQUIRE(c["sources"].get<int>() == 2);

    const auto& h = report["headline"];
    CHECK(h["pairs"] == c["pairs"]);
    CHECK(h["distinct_tags"] == c["distinct_focus_tags"]);
    CHECK(h["distinct_captions"] == c["distinct_titles"]);
    CHECK(h["sources"] == c["sources"]);
    CHECK(h["failures"] == c["failed"]);

    CHECK(report["jobs"]["total"] == c["jobs"]);
    CHECK(report["jobs"]["by_status"] == c["by_status"]);
    CHECK(report["pairs"]["by_source"] == c["pairs_by_source"]);
    CHECK(report["pairs"]["by_year"] == c["pairs_by_year"]);
    json gsd = json::object();
    for (const auto& g : report["pairs"]["by_gsd"]) {
        char key[32];
        std::snprintf(key, sizeof key, "%.2f", g["gsd_m"].get<double>());
        gsd[key] = g["pairs"];
    }
    CHECK(gsd == c["pairs_by_gsd"]);
    CHECK(report["tags"]["distinct_center_tags"] == c["distinct_center_tags"]);
    CHECK(report["focus_tags"]["with_at_least_100_images"] == c["tags_ge_100"]);
    CHECK(report["focus_tags"]["with_at_least_1000_images"] == c["tags_ge_1000"]);
    for (const auto& p : report["focus_tags"]["curve"]) {
        const auto key = std::to_string(p["min_images"].get<int>());
        if (c["tags_ge"].contains(key)) CHECK_MESSAGE(p["tags"] == c["tags_ge"][key], key);
    }
    std::int64_t previous = INT64_MAX, top_pairs = 0;
    for (const auto& t : report["focus_tags"]["top"]) {
        CHECK(t["pairs"] == c["tag_counts"][t["tag"].get<std::string>()]);
        CHECK(t["pairs"].get<std::int64_t>() <= previous); // most images first
        previous = t["pairs"].get<std::int64_t>();
        top_pairs += previous;
    }
    CHECK(top_pairs + report["focus_tags"]["long_tail"]["pairs"].get<std::int64_t>() == c["pairs"].get<std::int64_t>());

    CHECK(report["skipped"]["by_reason"] == c["skipped"]);
    CHECK(report["failures"]["total"] == c["failed"]);
    CHECK(report["failures"]["reasons"].get<std::size_t>() == c["failure_reasons"].size());
    CHECK(report["failures"]["messages"] == c["failure_messages"]);
    CHECK(report["failures"]["reasons"].get<int>() < report["failures"]["messages"].get<int>()); // "only N% of the tile ..." is one reason
    for (const auto& f : report["failures"]["top"]) {
        CHECK(f["jobs"] == c["failure_reasons"][f["reason"].get<std::string>()]);
        CHECK(!f["example"].get<std::string>().empty());
    }

    CHECK(report["files"]["images"] == c["files"]["images"]);
    CHECK(report["files"]["meta"] == c["files"]["meta"]);
    CHECK(report["files"]["csv_rows"] == c["files"]["csv_rows"]);
    CHECK(report["files"]["meta_jsonl_lines"] == c["files"]["meta_jsonl_lines"]);
    CHECK(report["files"]["images"] == c["pairs"]);

    // The options and versions it was built with; the report stage is recorded.
    CHECK(report["options"]["seed"] == "5");
    CHECK(report["options"]["source-policy"] == "all");
    CHECK(report["tool"]["version"].get<std::string>().starts_with("skyscript-build "));
    CHECK(report["tool"]["input"].get<std::string>().ends_with("monaco-latest.osm.pbf"));
    const auto stages = c["stages"];
    CHECK(std::find(stages.begin(), stages.end(), "report") != stages.end());

    SUBCASE("the rates per stage equal the ones the stages printed") {
        std::map<std::string, json> by_stage;
        for (const auto& s : report["stages"]) by_stage[s["stage"]] = s;
        REQUIRE(by_stage.count("plan"));
        REQUIRE(by_stage.count("fetch"));
        // "plan: 110 jobs from 150 sampled of ... in 0.07 s (2014 objects/s)", "fetch: 81 images, 29 failed in 2.15 s (37.7 images/s"
        const double plan_rate = captured(b.result.out, R"(plan: .* \((\d+) objects/s\))");
        const double fetch_rate = captured(b.result.out, R"(fetch: .* \(([0-9.]+) images/s)");
        const auto& plan = by_stage["plan"]["rate"];
        const auto& fetch = by_stage["fetch"]["rate"];
        CHECK(plan["unit"] == "objects");
        CHECK(fetch["unit"] == "images");
        CHECK(std::llround(plan["per_second"].get<double>()) == std::llround(plan_rate));
        char printed[32];
        std::snprintf(printed, sizeof printed, "%.1f", fetch["per_second"].get<double>());
        CHECK(std::stod(printed) == doctest::Approx(fetch_rate));
        CHECK(fetch["items"] == captured(b.result.out, R"(fetch: (\d+) images)"));
    }

    SUBCASE("`report OUT` again writes the same numbers") {
        const auto again = run(sh_quote(binary()) + " report " + sh_quote(b.out));
        REQUIRE_MESSAGE(again.exit_code == 0, again.err);
        auto second = load_json(b.out + "/report.json");
        auto first = report;
        for (auto* j : {&first, &second}) j->erase("generated_at");
        CHECK(first == second);
    }
}

TEST_CASE("headless chromium opens report.html from a file URL with the network off and renders all of it") {
    const auto& b = built();
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    const auto report = load_json(b.out + "/report.json");
    const auto html_path = fs::absolute(b.out + "/report.html").string();
    const auto html = read_file(html_path);

    // Self-contained: nothing fetched from anywhere (the SVG namespace is a name, not a fetch).
    for (const char* remote : {"src=\"http", "href=\"http", "url(http", "src=\"//", "@import"})
        CHECK_MESSAGE(html.find(remote) == std::string::npos, remote);

    const auto scratch = fresh_dir("report-chromium");
    const auto dom_log = scratch + "/dom.log", shot_log = scratch + "/shot.log", shot = scratch + "/report.png";
    const auto dump = run(chromium("--dump-dom", "file://" + html_path, dom_log));
    INFO(read_file(dom_log));
    REQUIRE(dump.exit_code == 0);
    const auto& dom = dump.out;
    REQUIRE(dom.find("data-ready=\"yes\"") != std::string::npos); // the page's script ran after load

    // Headline numbers equal report.json's.
    for (const auto& [key, value] : report["headline"].items()) {
        const auto shown = attribute_of(dom, "<div class=\"stat[^\"]*\" data-key=\"" + key + "\"[^>]*>", "data-value");
        CHECK_MESSAGE(shown == std::to_string(value.get<std::int64_t>()), key);
    }
    CHECK(attribute_of(dom, "<b data-key=\"tags_ge_100\"[^>]*>", "data-value") == report["focus_tags"]["with_at_least_100_images"].dump());

    // Every gallery image loaded with a non-zero natural width (counted by the page after onload).
    const auto images = attribute_of(dom, "<div id=\"gallery\"[^>]*>", "data-images");
    CHECK(images == std::to_string(report["gallery"]["stems"].size()));
    CHECK(std::stoi(images) >= 50);
    CHECK(attribute_of(dom, "<div id=\"gallery\"[^>]*>", "data-loaded") == images);
    CHECK(attribute_of(dom, "<div id=\"gallery\"[^>]*>", "data-broken") == "0");
    std::size_t cards = 0;
    for (std::size_t at = 0; (at = dom.find("<div class=\"card\"", at)) != std::string::npos; ++at) ++cards;
    CHECK(std::to_string(cards) == images);
    for (const auto& stem : report["gallery"]["stems"]) CHECK(dom.find(stem.get<std::string>() + ".jpg") != std::string::npos);
    // The focus object's outline over each image (issue 22): an SVG lying exactly over its
    // image on the rendered page (measured by the page), drawing the meta's geometry_px.
    std::map<std::string, json> meta_of;
    for (const auto& line : lines(read_file(b.out + "/meta.jsonl"))) {
        auto m = json::parse(line);
        meta_of[m["filepath"].get<std::string>()] = m;
    }
    const std::regex outlined_card(R"re(<a href="([^"]+)"><img [^>]*><svg class="outline" viewBox="0 0 (\d+) (\d+)"[^>]*><path class="([anw])"[^>]* d="M ([-0-9.]+) ([-0-9.]+))re");
    std::size_t outlines = 0;
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), outlined_card); it != std::sregex_iterator(); ++it, ++outlines) {
        const auto& m = meta_of[(*it)[1].str()];
        REQUIRE(m.contains("objects"));
        CHECK((*it)[2].str() == std::to_string(m["size_px"].get<int>()));
        const auto& g = m["objects"][0]["geometry_px"];
        const double x = std::stod((*it)[5].str()), y = std::stod((*it)[6].str());
        if ((*it)[4].str() == "a") { // the first ring's first vertex
            CHECK(x == doctest::Approx(g[0][0][0][0].get<double>()).epsilon(1e-6));
            CHECK(y == doctest::Approx(g[0][0][0][1].get<double>()).epsilon(1e-6));
        } else if ((*it)[4].str() == "w") {
            CHECK(x == doctest::Approx(g[0][0][0].get<double>()).epsilon(1e-6));
            CHECK(y == doctest::Approx(g[0][0][1].get<double>()).epsilon(1e-6));
        }
    }
    CHECK(outlines * 10 >= cards * 9); // a focus whose geometry cannot be read has none
    CHECK(attribute_of(dom, "<div id=\"gallery\"[^>]*>", "data-outlined") == std::to_string(outlines));

    // The charts, as SVG with drawn content.
    for (const char* id : {"chart-source", "chart-gsd", "chart-year", "chart-tag-curve", "chart-top-tags", "chart-map", "chart-skipped", "chart-failures"}) {
        const auto at = dom.find(std::string("<svg id=\"") + id + "\"");
        CHECK_MESSAGE(at != std::string::npos, id);
        if (at != std::string::npos) {
            const auto body = dom.substr(at, dom.find("</svg>", at) - at);
            CHECK_MESSAGE((body.find("<rect") != std::string::npos || body.find("<path") != std::string::npos), id);
        }
    }
    std::size_t boxes = 0;
    for (std::size_t at = 0; (at = dom.find("class=\"box\"", at)) != std::string::npos; ++at) ++boxes;
    CHECK(static_cast<std::int64_t>(boxes) == report["headline"]["pairs"].get<std::int64_t>());
    // The failures table names the most common reason.
    CHECK(dom.find(report["failures"]["top"][0]["reason"].get<std::string>().substr(0, 20)) != std::string::npos);
    CHECK(page_console_lines(dom_log).empty());

    // The gallery filter (plain JavaScript), driven by the URL: only WEST cards stay shown.
    const auto filtered = run(chromium("--dump-dom", "file://" + html_path + "#source=WEST", scratch + "/filtered.log"));
    REQUIRE(filtered.exit_code == 0);
    std::size_t shown = 0, hidden = 0;
    const std::regex card("<div class=\"card\" data-source=\"([^\"]*)\"[^>]*>");
    for (auto it = std::sregex_iterator(filtered.out.begin(), filtered.out.end(), card); it != std::sregex_iterator(); ++it) {
        const bool is_hidden = it->str(0).find(" hidden") != std::string::npos;
        CHECK(((*it)[1].str() == "WEST") != is_hidden);
        ++(is_hidden ? hidden : shown);
    }
    CHECK(shown > 0);
    CHECK(hidden > 0);
    CHECK(filtered.out.find("<span id=\"gallery-shown\">" + std::to_string(shown) + "</span>") != std::string::npos);
    CHECK(page_console_lines(scratch + "/filtered.log").empty());

    // The failed jobs are on the map too.
    std::size_t failed_boxes = 0;
    for (std::size_t at = 0; (at = dom.find("class=\"failedbox\"", at)) != std::string::npos; ++at) ++failed_boxes;
    CHECK(static_cast<std::int64_t>(failed_boxes) == report["headline"]["failures"].get<std::int64_t>());

    // A screenshot of the whole page (looked at by a person when the page changes).
    const auto s = run(chromium("--screenshot=" + sh_quote(shot), "file://" + html_path, shot_log));
    INFO(read_file(shot_log));
    REQUIRE(s.exit_code == 0);
    REQUIRE(fs::exists(shot));
    CHECK(fs::file_size(shot) > 100000); // a rendered page, not a blank one
    CHECK(read_file(shot).substr(1, 3) == "PNG");
    CHECK(page_console_lines(shot_log).empty());
}

TEST_CASE("status on a build killed mid-fetch reports the state DB's counts; it reads a running build without disturbing it") {
    const auto out = fresh_dir("report-status-killed");
    const auto db = out + "/state.sqlite";
    const std::vector<std::string> argv{binary(), data("osm/monaco-latest.osm.pbf"), "-o", out, "--sources", two_sources(), "--limit", "150",
                                        "--seed", "5", "--source-policy", "random", "--batch", "4", "--workers", "1", "-q"};
    const pid_t pid = start_process(argv);
    // Wait (bounded) until the fetch stage has recorded some jobs and has more to do.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool mid_fetch = false, read_while_running = false;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) break;
        const auto fetched = count_or_minus_one(db, "SELECT count(*) FROM jobs WHERE status IN ('fetched', 'failed')");
        const auto planned = count_or_minus_one(db, "SELECT count(*) FROM jobs WHERE status = 'planned'");
        if (fetched >= 8 && planned > 0) {
            if (!read_while_running) {
                const auto live = run(sh_quote(binary()) + " status " + sh_quote(out) + " --json");
                CHECK_MESSAGE(live.exit_code == 0, live.err);
                if (live.exit_code == 0) CHECK(json::parse(live.out)["stage"] == "fetch");
                if (live.exit_code == 0) CHECK(json::parse(live.out)["running"] == true); // the build's lock, asked without taking it
                read_while_running = true;
                continue; // the build goes on: kill it at the next sample
            }
            mid_fetch = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    REQUIRE(mid_fetch);
    REQUIRE(WIFSIGNALED(status));
    CHECK(read_while_running);

    const auto before = read_file(db) + read_file(db + "-wal");
    const auto st = run(sh_quote(binary()) + " status " + sh_quote(out) + " --json");
    REQUIRE_MESSAGE(st.exit_code == 0, st.err);
    const auto j = json::parse(st.out);
    INFO(st.out);
    for (const char* s : {"planned", "fetched", "written", "failed"})
        CHECK_MESSAGE(j["jobs"][s] == sql_int(db, std::string("SELECT count(*) FROM jobs WHERE status = '") + s + "'"), s);
    CHECK(j["jobs"]["total"] == sql_int(db, "SELECT count(*) FROM jobs"));
    CHECK(j["jobs"]["planned"].get<std::int64_t>() > 0);
    CHECK(j["skipped"] == sql_int(db, "SELECT coalesce(sum(objects), 0) FROM skipped"));
    CHECK(j["stage"] == "fetch");
    CHECK(j["finished_stages"] == json::array({"extract", "plan"}));
    // Killed a moment ago: the images it wrote give a rate, but no ETA: no run goes on (red-team
    // round 33: "ETA 23s", growing with each status, for a build no process ran).
    CHECK(j["rate"]["images_per_second"].get<double>() > 0);
    CHECK(j["rate"]["from"] == "newest images");
    CHECK(j["eta_seconds"].is_null());
    CHECK(j["newest_image_seconds_ago"].get<double>() < 60);
    CHECK(j["running"] == false); // killed: no run holds the lock
    CHECK(read_file(db) + read_file(db + "-wal") == before); // read-only
    const auto stopped = run(sh_quote(binary()) + " status " + sh_quote(out));
    CHECK(stopped.out.find("ETA unknown (no run of the build now: run it again to go on)") != std::string::npos);

    // A run holding the build's lock (flock(1) standing in for it): the rate gives the ETA.
    LockHolder holder(out);
    const auto held = json::parse(run(sh_quote(binary()) + " status " + sh_quote(out) + " --json").out);
    CHECK(held["running"] == true);
    CHECK(held["eta_seconds"].get<double>() > 0);
    const auto text = run(sh_quote(binary()) + " status " + sh_quote(out));
    REQUIRE_MESSAGE(text.exit_code == 0, text.err);
    CHECK(text.out.find("jobs: " + j["jobs"]["total"].dump() + " total, " + j["jobs"]["written"].dump() + " written, " + j["jobs"]["fetched"].dump() +
                        " fetched, " + j["jobs"]["planned"].dump() + " planned, " + j["jobs"]["failed"].dump() + " failed") != std::string::npos);
    CHECK(text.out.find("ETA ") != std::string::npos);
    CHECK(text.out.find("ETA unknown") == std::string::npos);
    // The newest image dated in 2099 (a copy from a host whose clock is ahead): left out of the
    // rate (red-team round 29: a rate of 0.0 and an ETA of -596523h-14m).
    auto newest = run("ls -t " + sh_quote(out) + "/images*/*.jpg | head -1").out;
    REQUIRE(newest.size() > 1);
    newest.pop_back();
    REQUIRE(run("touch -d 2099-01-01 " + sh_quote(newest)).exit_code == 0);
    const auto skewed = json::parse(run(sh_quote(binary()) + " status " + sh_quote(out) + " --json").out);
    CHECK(skewed["rate"]["images_per_second"].get<double>() > 0);
    CHECK(skewed["eta_seconds"].get<double>() > 0);
    CHECK(skewed["eta_seconds"].get<double>() < 86400);
    CHECK(run(sh_quote(binary()) + " status " + sh_quote(out)).out.find("ETA -") == std::string::npos);
    REQUIRE(run("touch " + sh_quote(newest)).exit_code == 0);
    // A burst, then nothing for 30 s (a local source's share at once, then a slow fallback's):
    // the rate is over the time since the burst, not its own half second (red-team round 32:
    // 88 images/s and an ETA of 1 s the whole minute the stall lasted).
    const auto images = lines(run("ls " + sh_quote(out) + "/images*/*.jpg").out);
    REQUIRE(images.size() >= 2);
    for (std::size_t i = 0; i < images.size(); ++i)
        REQUIRE(run("touch -d @" + std::to_string(std::time(nullptr) - 30) + "." + std::to_string(100 + i % 800) + " " + sh_quote(images[i])).exit_code == 0);
    const auto stalled = json::parse(run(sh_quote(binary()) + " status " + sh_quote(out) + " --json").out);
    INFO(stalled.dump());
    CHECK(stalled["rate"]["images_per_second"].get<double>() <= double(images.size()) / 29);
    CHECK(stalled["eta_seconds"].get<double>() >= double(j["jobs"]["planned"].get<std::int64_t>()) * 29 / double(images.size()) * 0.5);
    // Nothing in the window and no run holding the build: said so, not "is the build running?".
    holder.release();
    for (const auto& image : images) REQUIRE(run("touch -d '-2 hours' " + sh_quote(image)).exit_code == 0);
    const auto idle = run(sh_quote(binary()) + " status " + sh_quote(out)).out;
    CHECK(idle.find("stage next (no run of the build now)") != std::string::npos);
    CHECK(idle.find("ETA unknown (no run of the build now: run it again to go on)") != std::string::npos);
    const auto quiet = run(sh_quote(binary()) + " status " + sh_quote(out) + " -q --json");
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.err.empty());
    CHECK(json::parse(quiet.out)["jobs"] == j["jobs"]);

    // The report of the unfinished build: what it has so far.
    const auto partial = run(sh_quote(binary()) + " report " + sh_quote(out) + " -q");
    REQUIRE_MESSAGE(partial.exit_code == 0, partial.err);
    const auto pr = load_json(out + "/report.json");
    for (const char* s : {"planned", "fetched", "written", "failed"}) CHECK_MESSAGE(pr["jobs"]["by_status"][s] == j["jobs"][s], s);
    CHECK(pr["headline"]["pairs"] == j["jobs"]["written"]);

    SUBCASE("the rerun finishes it; status then says finished and report.json agrees") {
        std::string cmd = "timeout 300";
        for (const auto& a : argv) cmd.append(" ").append(sh_quote(a));
        const auto r = run(cmd);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        const auto done = json::parse(run(sh_quote(binary()) + " status " + sh_quote(out) + " --json").out);
        CHECK(done["stage"] == "finished");
        CHECK(done["jobs"]["planned"] == 0);
        CHECK(done["eta_seconds"] == 0);
        const auto report = load_json(out + "/report.json");
        CHECK(report["jobs"]["by_status"]["written"] == done["jobs"]["written"]);
        CHECK(report["headline"]["failures"] == done["jobs"]["failed"]);
        // Finished, the rate is the fetch stage's, as the report has it.
        CHECK(done["rate"]["from"] == "fetch stage");
        for (const auto& st : report["stages"])
            if (st["stage"] == "fetch") CHECK(done["rate"]["images_per_second"].get<double>() == doctest::Approx(st["rate"]["per_second"].get<double>()));

        // Images gone since: split sends their jobs back to be fetched, and status says the build
        // is at fetch again (before: "finished" with 3 jobs planned; a scheduler polling it stopped).
        const auto images = sql_column(out + "/state.sqlite", "SELECT 'images' || part || '/' || stem || '.jpg' FROM jobs WHERE status = 'written' LIMIT 3");
        REQUIRE(images.size() == 3);
        for (const auto& i : images) fs::remove(out + "/" + i);
        REQUIRE(run(sh_quote(binary()) + " split " + sh_quote(out) + " -q").exit_code == 0);
        const auto again = json::parse(run(sh_quote(binary()) + " status " + sh_quote(out) + " --json").out);
        CHECK(again["jobs"]["planned"] == 3);
        CHECK(again["stage"] == "fetch");
        // Nor is fetch, or a stage after it, finished now (red-team round 33: "write stage next
        // (finished: extract plan fetch write split report)").
        CHECK(again["finished_stages"] == json::array({"extract", "plan"}));
    }
}

TEST_CASE("report and status name the folder when there is no build") {
    const auto empty = fresh_dir("report-no-build");
    for (const char* cmd : {" report ", " status "}) {
        const auto r = run(sh_quote(binary()) + cmd + sh_quote(empty));
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(empty + ": no build here") != std::string::npos);
        CHECK(lines(r.err).size() == 1);
    }
    CHECK(run(sh_quote(binary()) + " status").exit_code == 2);
}

TEST_CASE("status, report and split while a merge makes OUT's state DB say so, and after a merge stopped then say to run it again (red-team round 33)") {
    // Before: "no build here (no state.sqlite); start one with ..." and status exited 1 to a
    // scheduler polling the merge.
    const auto out = fresh_dir("report-merging");
    const auto say = [&](const std::string& command) { return run(sh_quote(binary()) + " " + command + " " + sh_quote(out) + " -q"); };
    // A merge holding the lock before it has made any state DB (it checks its shards first).
    {
        const LockHolder early(out);
        const auto checking = say("status");
        CHECK(checking.exit_code == 0);
        CHECK_MESSAGE(checking.out.find(out + ": extract stage running: no state DB yet; a run holds the build's lock (") == 0, checking.out);
        CHECK(json::parse(say("status --json").out)["state_db"] == "not made yet");
        const auto report = say("report");
        CHECK(report.exit_code == 1);
        CHECK(report.err.find(out + ": no state DB yet; a run holds the build's lock") != std::string::npos);
    }
    write_file(out + "/state.sqlite.merging", "a merge's state DB, not in place yet");
    const auto stopped = say("status");
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.out == out + ": merge next: a merge stopped before it put its state DB in place (state.sqlite.merging is left): run the merge again\n");
    const auto j = json::parse(say("status --json").out);
    CHECK(j["stage"] == "merge");
    CHECK(j["state_db"] == "merge interrupted");
    CHECK(j["running"] == false);
    for (const char* command : {"report", "split", "write"}) {
        INFO(command);
        const auto r = say(command);
        CHECK(r.exit_code == 1);
        CHECK(r.err == "skyscript-build: error: " + out + ": a merge stopped before it put its state DB in place (state.sqlite.merging is left): run the merge again\n");
    }
    // A merge holding the lock (flock(1) standing in for it).
    const LockHolder holder(out);
    const auto running = say("status");
    CHECK(running.exit_code == 0);
    CHECK(running.out.find(out + ": merge running: its state DB (state.sqlite.merging) is put in place once the shards' jobs and files are in") == 0);
    CHECK(json::parse(say("status --json").out)["state_db"] == "merge writing");
    for (const char* command : {"report", "split"}) {
        INFO(command);
        const auto r = say(command);
        CHECK(r.exit_code == 1);
        CHECK(r.err == "skyscript-build: error: " + out + ": a merge is making this build (its state DB is not in place yet): run this again once it has finished\n");
    }
}

TEST_CASE("write, split and benchmarks on a folder not planned yet say so in one line, and record nothing") {
    const auto out = fresh_dir("report-not-planned");
    REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " -q").exit_code == 0);
    for (const char* stage : {"fetch", "write", "split", "benchmarks"}) {
        CAPTURE(stage);
        const auto r = run(sh_quote(binary()) + " " + stage + " " + sh_quote(out) + " -q");
        CHECK(r.exit_code == 1); // before: write and split exited 1 saying nothing, and recorded themselves finished
        CHECK(r.err.find(out + ": not planned yet; run `skyscript-build plan " + out + "` first") != std::string::npos);
        CHECK(lines(r.err).size() == 1);
    }
    CHECK_FALSE(fs::exists(out + "/meta.jsonl"));
    CHECK_FALSE(fs::exists(out + "/SkyScript_train_unfiltered.csv"));
    if (fs::exists(out + "/state.sqlite")) CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM stages WHERE stage != 'extract'") == 0);
}

TEST_CASE("status reads a build in a folder it may not write (another user's, a read-only copy)") {
    // Run as nobody on a copy under /tmp that nobody may write: SQLite's WAL reader would make
    // its -shm file there, and failed with "attempt to write a readonly database".
    if (::geteuid() != 0) {
        FAIL_CHECK("cannot run: switching to another user to read a folder it may not write needs root (uid " << ::geteuid() << ")");
        return;
    }
    const auto out = fresh_dir("report-read-only");
    const auto r = build(out, "--limit 20 -q");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    char templ[] = "/tmp/skyscript-read-only-XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    const std::string copy = templ;
    REQUIRE(run("cp -r " + sh_quote(out) + " " + sh_quote(copy + "/b") + " && cp " + sh_quote(binary()) + " " + sh_quote(copy + "/skyscript-build") +
                " && chmod -R a+rX,go-w " + sh_quote(copy))
                .exit_code == 0);
    REQUIRE_FALSE(fs::exists(copy + "/b/state.sqlite-shm"));
    const auto as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups " + sh_quote(copy + "/skyscript-build");
    const auto status = run(as_nobody + " status " + sh_quote(copy + "/b"));
    CHECK_MESSAGE(status.exit_code == 0, status.err);
    CHECK(status.out.find("written") != std::string::npos);
    const auto json = run(as_nobody + " status --json " + sh_quote(copy + "/b"));
    CHECK_MESSAGE(json.exit_code == 0, json.err);
    CHECK(nlohmann::json::parse(json.out, nullptr, false).is_object());
    CHECK_FALSE(fs::exists(copy + "/b/state.sqlite-shm")); // nothing made there
    // A state DB it may not read: said so, by its path (before: SQLite's words and the URI it was opened by).
    fs::permissions(copy + "/b/state.sqlite", fs::perms::owner_read | fs::perms::owner_write);
    const auto unreadable = run(as_nobody + " status " + sh_quote(copy + "/b"));
    CHECK(unreadable.exit_code != 0);
    CHECK(lines(unreadable.err).size() == 1);
    CHECK_MESSAGE(unreadable.err.find(copy + "/b/state.sqlite: not readable by this user (Permission denied)") != std::string::npos, unreadable.err);
    CHECK(unreadable.err.find("immutable") == std::string::npos);
    fs::remove_all(copy);
}

TEST_CASE("failure reasons are grouped with URLs and decimal numbers taken out, HTTP codes kept (the same rule as count_dataset.py)") {
    using skyscript::pipeline::failure_class;
    CHECK(failure_class("only 12.2% of the tile has imagery (--min-valid 90.0%)") == "only N% of the tile has imagery (--min-valid N%)");
    CHECK(failure_class("tile https://t.example/12/2134/1493.png: HTTP 503 Service Unavailable") == "tile URL: HTTP 503 Service Unavailable");
    CHECK(failure_class("HTTP 404 Not Found") == "HTTP 404 Not Found");
    CHECK(failure_class("see (http://a/b), then") == "see (URL), then");
    CHECK(failure_class("") == "");
    // The python side gives the same classes.
    const std::vector<std::string> reasons{"only 12.2% of the tile has imagery (--min-valid 90.0%)", "tile https://t.example/1/2/3.png: HTTP 503",
                                           "see (http://a/b), then", "1.5http://x 2.25.3 v3.0", "at http://x/a.png.", "http://:"};
    std::string py = "import sys; sys.path.insert(0, " + json(source_dir() + "/tests").dump() + "); import count_dataset; print('\\n'.join(count_dataset.failure_class(r) for r in " + json(reasons).dump() + "))";
    const auto r = run("/usr/bin/python3 -c " + sh_quote(py));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto got = lines(r.out);
    REQUIRE(got.size() == reasons.size());
    for (std::size_t i = 0; i < reasons.size(); ++i) CHECK_MESSAGE(got[i] == failure_class(reasons[i]), reasons[i]);
}

TEST_CASE("text from OSM is escaped in report.html: a caption with markup shows as text and runs nothing") {
    const auto& b = built();
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    const auto out = fresh_dir("report-escaped");
    REQUIRE(run("cp -r " + sh_quote(b.out) + "/. " + sh_quote(out)).exit_code == 0);
    // OSM values reach the captions (names, levels, ...): give every written job a hostile one.
    const std::string hostile = "<script>document.body.dataset.pwned='yes'</script><img src=x onerror=\"document.body.dataset.pwned='yes'\">&amp;";
    const auto db = out + "/state.sqlite";
    const auto set = run("/usr/bin/python3 -c " +
                         sh_quote("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE jobs SET title = ?, focus_tag = ? WHERE status = 'written'\", "
                                  "(sys.argv[2], sys.argv[2])); c.commit()") +
                         " " + sh_quote(db) + " " + sh_quote(hostile));
    REQUIRE_MESSAGE(set.exit_code == 0, set.err);
    const auto r = run(sh_quote(binary()) + " report " + sh_quote(out) + " -q");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto html = read_file(out + "/report.html");
    CHECK(html.find(hostile) == std::string::npos);
    CHECK(html.find("&lt;script&gt;document.body.dataset.pwned") != std::string::npos);
    // The dataset card shows OSM values in code spans, whole: a backtick in one does not end
    // its span (the markup after it was HTML to the Hub), and no control character is written.
    // The focus tag of the written jobs (those `also` picks too) set to `value`, and the report made again.
    const auto report_with_focus_tag = [&](const std::string& value, const std::string& also = "") {
        const auto set = run("/usr/bin/python3 -c " +
                             sh_quote("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE jobs SET focus_tag = ? WHERE status = 'written'" +
                                      also + "\", (sys.argv[2],)); c.commit()") +
                             " " + sh_quote(db) + " " + sh_quote(value));
        REQUIRE_MESSAGE(set.exit_code == 0, set.err);
        REQUIRE(run(sh_quote(binary()) + " report " + sh_quote(out) + " -q").exit_code == 0);
    };
    const std::string ticked = std::string("man_made=x`<img src=x onerror=alert(1)>`y") + '\x01';
    report_with_focus_tag(ticked);
    const auto card = read_file(out + "/README.md");
    CHECK(card.find("| `` man_made=x`<img src=x onerror=alert(1)>`y  `` |") != std::string::npos);
    CHECK(card.find('\x01') == std::string::npos);
    // The input's name and a source's licence and attribution are the builder's, but shown as
    // text too: a line break in the name made a heading, markup in the terms was HTML (round 26).
    const auto set_terms = run("/usr/bin/python3 -c " +
                               sh_quote("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                                        "c.execute(\"UPDATE source_terms SET licence = '<img src=x onerror=alert(2)>', attribution = '[c](javascript:alert(1)) **b** &lt;'\"); "
                                        "c.execute(\"UPDATE options SET value = '/x/evil\\n# Injected\\n```\\n<b onmouseover=x>.osm.pbf' WHERE key = 'input'\"); c.commit()") +
                               " " + sh_quote(db));
    REQUIRE_MESSAGE(set_terms.exit_code == 0, set_terms.err);
    REQUIRE(run(sh_quote(binary()) + " report " + sh_quote(out) + " -q").exit_code == 0);
    const auto termed = read_file(out + "/README.md");
    for (const auto& line : lines(termed)) CHECK_MESSAGE(!line.starts_with("# Injected"), line);
    CHECK(termed.find("| <img src=x onerror=alert(2)> |") == std::string::npos); // raw in a cell (the YAML header quotes it: not rendered)
    CHECK(termed.find("| [c](javascript") == std::string::npos); // a link, as written
    CHECK(termed.find(R"(| \[c\](javascript:alert(1)) \*\*b\*\* \&lt; |)") != std::string::npos); // text: no link without its brackets
    CHECK(termed.find(R"(\<img src=x onerror=alert(2)\>)") != std::string::npos);
    CHECK(termed.find("`/x/evil") == std::string::npos); // the file name only
    // The build command is one line of shell words: pasted, it runs nothing the name holds.
    CHECK_MESSAGE(termed.find("\nskyscript-build $'evil\\x0a# Injected\\x0a```\\x0a<b onmouseover=x>.osm.pbf' -o OUT") != std::string::npos, termed);
    CHECK_MESSAGE(termed.find("# SkyScript-style image-text pairs from ```` evil # Injected ``` <b onmouseover=x>.osm.pbf ````\n") != std::string::npos, termed);
    // Back to the hostile markup for the browser's checks below.
    report_with_focus_tag(hostile);

    const auto log = out + "/chromium.log";
    const auto dump = run(chromium("--dump-dom", "file://" + fs::absolute(out + "/report.html").string(), log));
    INFO(read_file(log));
    REQUIRE(dump.exit_code == 0);
    CHECK(dump.out.find("data-ready=\"yes\"") != std::string::npos);
    CHECK(dump.out.find("data-pwned") == std::string::npos);
    CHECK(attribute_of(dump.out, "<div id=\"gallery\"[^>]*>", "data-broken") == "0");
    CHECK(page_console_lines(log).empty());

    // A tag with a run of spaces is filtered as itself: an <option> without a value attribute
    // gave the browser its text collapsed, which no card's tag equals (red-team round 26).
    const std::string spaced = "man_made=a  b";
    report_with_focus_tag(spaced, " AND job_id % 2 = 0");
    const auto by_tag = run(chromium("--dump-dom", "file://" + fs::absolute(out + "/report.html").string() + "#tag=man_made%3Da%20%20b", out + "/tag.log"));
    REQUIRE(by_tag.exit_code == 0);
    std::size_t tagged = 0, cards = 0;
    const std::regex tag_card("<div class=\"card\"[^>]*data-tag=\"([^\"]*)\"[^>]*>");
    for (auto it = std::sregex_iterator(by_tag.out.begin(), by_tag.out.end(), tag_card); it != std::sregex_iterator(); ++it, ++cards) {
        const bool is_hidden = it->str(0).find(" hidden") != std::string::npos;
        CHECK_MESSAGE(((*it)[1].str() == spaced) != is_hidden, it->str(0));
        tagged += (*it)[1].str() == spaced;
    }
    CHECK(tagged > 0);
    CHECK(tagged < cards);
    CHECK(by_tag.out.find("<span id=\"gallery-shown\">" + std::to_string(tagged) + "</span>") != std::string::npos);

    // Tags that differ only in a CR against a CR LF (or in which control they hold) are two to
    // the filter: the parser made both LF, and either option showed the cards of both (round 34).
    const std::string cr = "man_made=a\rb", crlf = "man_made=a\r\nb";
    report_with_focus_tag(crlf);
    report_with_focus_tag(cr, " AND job_id % 2 = 0");
    const auto html_cr = read_file(out + "/report.html");
    CHECK(html_cr.find("<option value=\"man_made=a&#13;b\">") != std::string::npos);
    CHECK(html_cr.find("<option value=\"man_made=a&#13;\nb\">") != std::string::npos);
    CHECK(html_cr.find('\r') == std::string::npos); // no raw CR in the file
    const auto by_cr = run(chromium("--dump-dom", "file://" + fs::absolute(out + "/report.html").string() + "#tag=man_made%3Da%0Db", out + "/cr.log"));
    REQUIRE(by_cr.exit_code == 0);
    std::size_t with_cr = 0, with_crlf = 0, shown_cr = 0;
    for (auto it = std::sregex_iterator(by_cr.out.begin(), by_cr.out.end(), tag_card); it != std::sregex_iterator(); ++it) {
        const bool is_hidden = it->str(0).find(" hidden") != std::string::npos;
        const auto tag = (*it)[1].str();
        with_cr += tag == cr;
        with_crlf += tag == crlf;
        if (!is_hidden) {
            ++shown_cr;
            CHECK_MESSAGE(tag == cr, it->str(0));
        }
    }
    CHECK(with_cr > 0);
    CHECK(with_crlf > 0);
    CHECK(shown_cr == with_cr);
    CHECK(by_cr.out.find("<span id=\"gallery-shown\">" + std::to_string(with_cr) + "</span>") != std::string::npos);
}

TEST_CASE("a split stopped part way: status names the split and the report makes no dataset card of its files; a run on a finished build is its stage (red-team round 34)") {
    const auto& b = built();
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    const auto out = fresh_dir("report-split-stopped");
    REQUIRE(run("cp -r " + sh_quote(b.out) + "/. " + sh_quote(out)).exit_code == 0);
    const auto status = [&] { return run(sh_quote(binary()) + " status " + sh_quote(out)).out; };
    REQUIRE(status().find(": finished (") != std::string::npos);
    // A split with other sizes, killed once it has forgotten the split it replaces (its CSVs
    // and shards are then from two splits, or the old one's under the new options).
    const auto pid = start_process({binary(), "split", out, "--format", "both", "--shard-size", "5", "--val-size", "10%", "-q"});
    const auto end = kill_when(pid, [&] { return sql_int(out + "/state.sqlite", "SELECT count(*) FROM stages WHERE stage = 'split'") == 0; });
    REQUIRE(end == -SIGKILL);
    const auto stopped = status();
    CHECK_MESSAGE(stopped.find(": split stage next (no run of the build now) (finished: extract plan fetch write)") != std::string::npos, stopped);
    CHECK(json::parse(run(sh_quote(binary()) + " status " + sh_quote(out) + " --json").out)["stage"] == "split");
    const auto report = run(sh_quote(binary()) + " report " + sh_quote(out) + " -q");
    CHECK(report.exit_code == 0); // report.html and report.json: what OUT holds
    CHECK(report.err.find("no dataset card (README.md, croissant.json): the split is not finished") != std::string::npos);
    CHECK(lines(report.err).size() == 1);
    CHECK_FALSE(fs::exists(out + "/README.md")); // before: a card of the mixed files, with the new sizes as how they were split
    CHECK_FALSE(fs::exists(out + "/croissant.json"));
    CHECK(fs::exists(out + "/report.html"));
    // The split run again settles it and makes the report, card and all.
    const auto again = run(sh_quote(binary()) + " split " + sh_quote(out) + " -q");
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(fs::exists(out + "/README.md"));
    CHECK(fs::exists(out + "/croissant.json"));
    CHECK(status().find(": finished (") != std::string::npos);
    // Split options the split refuses (val and test would take every image) leave the split
    // it had finished: before, it stayed forgotten, and the report then took the good card away.
    const auto refused = run(sh_quote(binary()) + " split " + sh_quote(out) + " --val-size 1000 --test-size 1000 -q");
    CHECK(refused.exit_code != 0);
    CHECK(status().find(": finished (") != std::string::npos);
    const auto after_refusal = run(sh_quote(binary()) + " report " + sh_quote(out) + " -q");
    CHECK(after_refusal.err.empty());
    CHECK(fs::exists(out + "/README.md"));
    // So in the bare command, whose earlier stages finish again first (review of round 35:
    // the refused sizes stayed recorded, the split forgotten, the next report took the card).
    const auto bare = run(sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) +
                          " --val-size 1000 --test-size 1000 -q");
    CHECK(bare.exit_code != 0);
    CHECK(status().find(": finished (") != std::string::npos);
    CHECK(sql_column(out + "/state.sqlite", "SELECT value FROM options WHERE key = 'val-size'") != std::vector<std::string>{"1000"});
    CHECK(run(sh_quote(binary()) + " report " + sh_quote(out) + " -q").err.empty());
    CHECK(fs::exists(out + "/README.md"));
    // A run holding the finished build (a split of the same options, whose files it replaces
    // one by one): its stage, not "finished".
    // A PID no process has (above any pid_max): the lock's holder is told by the flock alone, so
    // the status after the holder's end says no run (PID 1 would be taken for a holder still running).
    write_file(out + "/build.lock", "process 999999999 since 2026-12-07T10:00:00Z: skyscript-build split " + out + " -q\n");
    {
        LockHolder holder(out);
        const auto held = status();
        CHECK_MESSAGE(held.find(": split stage next or running (a run of the build is going on) (finished: extract plan fetch write)") != std::string::npos, held);
    }
    write_file(out + "/build.lock", "process 999999999 since 2026-12-07T10:00:00Z: skyscript-build " + data("osm/monaco-latest.osm.pbf") + " -o " + out + "\n");
    {
        LockHolder holder(out); // the bare command run again on a finished build: nothing to name
        CHECK(status().find(": finished (") != std::string::npos);
    }
}

TEST_CASE("a report of no pairs leaves no earlier dataset card beside the CSVs it no longer describes (red-team round 35)") {
    const auto& b = built();
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    const auto out = fresh_dir("report-no-pairs");
    REQUIRE(run("cp -r " + sh_quote(b.out) + "/. " + sh_quote(out)).exit_code == 0);
    REQUIRE(fs::exists(out + "/README.md"));
    REQUIRE(run("rm " + sh_quote(out) + "/images*/*.jpg").exit_code == 0);
    const auto split = run(sh_quote(binary()) + " split " + sh_quote(out) + " -q"); // every image gone: header-only CSVs
    CHECK(split.exit_code == 1);
    const auto report = run(sh_quote(binary()) + " report " + sh_quote(out) + " -q");
    CHECK_MESSAGE(report.exit_code == 0, report.err);
    CHECK(json::parse(read_file(out + "/report.json"))["headline"]["pairs"] == 0);
    CHECK_FALSE(fs::exists(out + "/README.md")); // before: "N remote-sensing images" and the old CSVs' digests
    CHECK_FALSE(fs::exists(out + "/croissant.json"));
}

TEST_CASE("status and report read a state DB edited by hand: a count no integer holds is no rate, not a negative one") {
    const auto out = fresh_dir("report-absurd-counts");
    const auto r = build(out, "--limit 10 -q");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const std::string count : {"1e300", "-5", "18446744073709551615"}) {
        INFO(count);
        REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"UPDATE stages SET summary = json_set(summary, '$.fetched', json('" + count +
                    "')) WHERE stage = 'fetch'\"")
                    .exit_code == 0);
        const auto status = run(sh_quote(binary()) + " status " + sh_quote(out));
        INFO(status.out << status.err);
        CHECK(status.exit_code == 0);
        CHECK(status.out.find("-9223372036854775808") == std::string::npos);
        CHECK(status.out.find("the fetch stage ran at") == std::string::npos); // no fetch rate from it (before: -9223372036854775808.0 images/s from 1e300)
        const auto report = run(sh_quote(binary()) + " report " + sh_quote(out) + " -q");
        CHECK_MESSAGE(report.exit_code == 0, report.err);
        CHECK(read_file(out + "/report.html").find("-9223372036854775808") == std::string::npos);
    }
    // Seconds too small to divide by (1e-320): no rate of inf images/s, and no "nothing left to
    // fetch" while jobs are planned (red-team round 39).
    REQUIRE(run("sqlite3 " + sh_quote(out + "/state.sqlite") + " \"UPDATE stages SET summary = json_set(summary, '$.fetched', 5), seconds = 1e-320 WHERE stage = 'fetch'; "
                "UPDATE jobs SET status = 'planned' WHERE job_id IN (SELECT job_id FROM jobs ORDER BY job_id DESC LIMIT 3)\"")
                .exit_code == 0);
    const auto status = run(sh_quote(binary()) + " status " + sh_quote(out));
    INFO(status.out);
    CHECK(status.out.find("inf") == std::string::npos);
    CHECK(status.out.find("nothing left to fetch") == std::string::npos);
    REQUIRE(run(sh_quote(binary()) + " report " + sh_quote(out) + " -q").exit_code == 0);
    CHECK(read_file(out + "/report.html").find("inf images/s") == std::string::npos);
}

TEST_CASE("report alone while another run holds the state DB past the wait: the report is written and it says it is not recorded, exit 0 (red-team round 26)") {
    const auto& b = built();
    REQUIRE_MESSAGE(b.result.exit_code == 0, b.result.err);
    const auto out = fresh_dir("report-db-held");
    REQUIRE(run("cp -r " + sh_quote(b.out) + "/. " + sh_quote(out)).exit_code == 0);
    fs::remove(out + "/report.json");
    // A writer holding the DB (as a plan writing its jobs does) for longer than report waits (10 s).
    const auto held = out + "/held";
    const auto holder = start_process({"/usr/bin/python3", "-c",
                                       "import sqlite3, sys, time\n"
                                       "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                                       "c.execute('BEGIN IMMEDIATE')\n"
                                       "open(sys.argv[2], 'w').close()\n"
                                       "time.sleep(25)\n",
                                       out + "/state.sqlite", held});
    for (int i = 0; i < 500 && !fs::exists(held); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(fs::exists(held));
    const auto r = run("timeout 60 " + sh_quote(binary()) + " report " + sh_quote(out) + " -q");
    ::kill(holder, SIGKILL);
    wait_process(holder);
    INFO(r.err);
    CHECK(r.exit_code == 0); // before: 1, "database is locked", after writing the report
    CHECK(r.err.find("report written, but not recorded as finished") != std::string::npos);
    CHECK(lines(r.err).size() == 1);
    CHECK(load_json(out + "/report.json")["headline"]["pairs"] == load_json(b.out + "/report.json")["headline"]["pairs"]);
}

TEST_CASE("status of a build made stage by stage from `extract` alone says finished; a rerun's fetch of nothing is no rate of 0 (red-team round 26)") {
    const auto out = fresh_dir("status-stage-by-stage") + "/out";
    const auto b = sh_quote(binary());
    REQUIRE(run(b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(out) + " --sources " + sh_quote(monaco().sources) + " --limit 30 -q").exit_code == 0);
    for (const char* stage : {"fetch", "write", "split", "report"}) REQUIRE_MESSAGE(run(b + " " + stage + " " + sh_quote(out) + " -q").exit_code == 0, stage);
    const auto text = run(b + " status " + sh_quote(out));
    REQUIRE(text.exit_code == 0);
    CHECK_MESSAGE(text.out.starts_with(out + ": finished (finished: extract plan fetch write split report)"), text.out); // before: "extract stage next or running"
    CHECK(json::parse(run(b + " status " + sh_quote(out) + " --json").out)["stage"] == "finished");
    // fetch again: nothing to fetch, its record counts 0 images; the rate is not "0.0 images/s".
    REQUIRE(run(b + " fetch " + sh_quote(out) + " -q").exit_code == 0);
    const auto again = run(b + " status " + sh_quote(out));
    CHECK_MESSAGE(again.out.find(" 0.0 images/s") == std::string::npos, again.out);
    const auto status = json::parse(run(b + " status " + sh_quote(out) + " --json").out);
    CHECK_MESSAGE((!status.contains("rate") || status["rate"]["images_per_second"].get<double>() > 0), status.dump());
}

TEST_CASE("stage by stage: when every job failed, fetch, write and split each exit 1 saying so; a build written and never split is at the split, not finished (red-team round 39)") {
    const auto dir = fresh_dir("status-stage-verdicts");
    const auto b = sh_quote(binary());
    // A source whose declared coverage is Monaco and whose one raster lies 100 km away: no job has imagery.
    REQUIRE(run("gdal_translate -q -srcwin 0 0 200 200 -a_ullr 400000 4900000 400100 4899900 " + sh_quote(monaco().raster) + " " +
                sh_quote(dir + "/far.tif")).exit_code == 0);
    write_file(dir + "/far.toml", "[[source]]\nalias = \"FAR\"\nkind = \"gdal\"\npath = \"" + dir + "/far.tif\"\nyear = 2020\ngsd = 0.5\n"
                                  "coverage = [7.405, 43.723, 7.44, 43.753]\n");
    const auto failed = dir + "/failed";
    REQUIRE(run(b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(failed) + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(failed) + " --sources " + sh_quote(dir + "/far.toml") + " --limit 10 -q").exit_code == 0);
    for (const std::string stage : {"fetch", "write", "split"}) {
        CAPTURE(stage);
        const auto r = run(b + " " + stage + " " + sh_quote(failed) + " -q");
        CHECK(r.exit_code == 1); // before: fetch 0
        CHECK(r.err.find(": every job failed (see `skyscript-build report " + failed + "`; `skyscript-build fetch " + failed + " --retry-failed` asks them again)") !=
              std::string::npos); // before: write and split "no job has an image yet"
        CHECK(lines(r.err).size() == 1);
    }
    // Written, then the report, stage by stage: the split is still to come.
    const auto written = dir + "/written";
    REQUIRE(run(b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(written) + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(written) + " --sources " + sh_quote(monaco().sources) + " --limit 10 -q").exit_code == 0);
    for (const char* stage : {"fetch", "write", "report"}) REQUIRE_MESSAGE(run(b + " " + stage + " " + sh_quote(written) + " -q").exit_code == 0, stage);
    const auto status = run(b + " status " + sh_quote(written));
    CHECK_MESSAGE(status.out.starts_with(written + ": split stage next (no run of the build now)"), status.out); // before: "finished", no CSV
    CHECK(json::parse(run(b + " status " + sh_quote(written) + " --json").out)["stage"] == "split");
}

TEST_CASE("status of a build planned and not fetching yet says the ETA comes with the first images, not that no image came in the last minute (red-team round 28)") {
    const auto out = fresh_dir("status-planned-only") + "/out";
    const auto b = sh_quote(binary());
    REQUIRE(run(b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(out) + " --sources " + sh_quote(monaco().sources) + " --limit 30 -q").exit_code == 0);
    const auto text = run(b + " status " + sh_quote(out));
    REQUIRE(text.exit_code == 0);
    CHECK_MESSAGE(text.out.find("rate: no image yet; ETA once the first images are fetched") != std::string::npos, text.out);
    CHECK(text.out.find("is the build running?") == std::string::npos); // before: "no image in the last 1m00s: is the build running?"
}
