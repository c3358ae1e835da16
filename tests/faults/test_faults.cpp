// Network faults under the real bare command (issue 18, point 5): a fault-injecting
// server (tests/faults/fault_server.py) serves each network kind: xyz tiles, a COG that
// GDAL reads over /vsicurl/ with range requests, and Earth Engine (the fault server as a
// proxy in front of tests/earthengine_fake_server.py). It answers latency, 5xx, 429 with
// Retry-After, resets and truncated bodies, HTML or empty 200s, stalled bodies, redirect
// loops and redirects to file:// and ftp://, 100 MB bodies and gzip bombs. Each faulted
// build runs next to a clean build of the same jobs. Per kind the suite prints the jobs
// fetched, failed with a reason, corrupt on disk, lost and the build's peak RSS, and
// asserts: every job ended fetched (with the clean build's bytes) or failed with its
// reason, none is lost, nothing corrupt or stray is on disk, memory stayed bounded,
// `status --json` and report.json say what the state DB says; for xyz and Earth Engine,
// where the test knows which requests each job made, a job whose request always failed
// is failed and one whose requests failed once only (transiently) is fetched. GDAL's own
// timeout and retries must come from --timeout and --attempts: the test sets no GDAL_HTTP_*.
// A second case answers every request 429 with Retry-After: 100000: the jobs must fail at
// once with that reason (the engine caps Retry-After) instead of waiting 28 hours. A third
// serves each kind from a server down for good (every tile request stalls, or answers 503):
// the fetch must stop that source after 32 jobs failed in a row, its other jobs planned.

#include "measured_run.hpp"
#include "pipeline_fixture.hpp"
#include "test_support.hpp"
#include "imagery/sources/xyz/xyz_source.hpp"

#include <doctest/doctest.h>
#include <gdal_priv.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

using namespace skyscript::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int attempts = 2;
const std::string timeout_s = "3";
// Peak RSS of a faulted build: under 500 MB, and at most 200 MB above the clean build of
// the same jobs (a few 100 MB bodies or 200 MB bombs buffered whole go past either). Under
// AddressSanitizer (`make asan`) freed memory waits in its quarantine, 256 MB by default,
// which RSS counts: the gdal kind's builds read 540-590 MB there, 360 MB with a 16 MB
// quarantine; so the absolute bound grows by the quarantine (a body buffered whole is
// still caught by the bound above the clean build).
#if defined(__SANITIZE_ADDRESS__)
constexpr long sanitizer_quarantine_kb = 256L * 1024;
#else
constexpr long sanitizer_quarantine_kb = 0;
#endif
constexpr long rss_bound_kb = 500L * 1024 + sanitizer_quarantine_kb, rss_over_clean_kb = 200L * 1024;
// A build still running then is killed (and fails the suite): a faulted build, and one
// whose every request is answered Retry-After: 100000.
constexpr double deadline_s = 60, retry_after_deadline_s = 40;
constexpr long long huge_bytes = 100LL * 1024 * 1024;

std::string fault_server() { return source_dir() + "/tests/faults/fault_server.py"; }

// Faults as fault_server.py spells them: FAULT:0 on every request of a key, FAULT:1 on its first only.
const std::vector<std::string> every_fault = {
    "latency-800:0", "latency-1500:1", "500:0",       "502:1",       "503:0",         "503:1",         "429-1:0",
    "429-2:1",       "429-1:1",        "reset:0",     "reset:1",     "truncate:0",    "truncate:1",    "html:0",
    "html:1",        "html-image:0",   "empty:0",     "empty:1",     "stall:0",       "stall:1",       "redirect-loop:0",
    "redirect-file:0", "redirect-ftp:0", "huge:0",    "huge:0",      "huge:1",        "gzip-bomb:0",   "gzip-bomb:0",
    "gzip-bomb:1"};

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + e;
    return s;
}

// What a key's fault means for the job that made the request, with `attempts` attempts.
enum class Expect { fetched, failed, either };
Expect expect_of(const std::string& fault) {
    const auto colon = fault.find(':');
    const std::string name = fault.substr(0, colon);
    const bool always = fault.substr(colon + 1) == "0";
    if (name == "ok" || name.rfind("latency-", 0) == 0) return Expect::fetched;
    if (always) return Expect::failed;
    // Once only: docs/reliability.md says timeouts, resets, 5xx, 429 and truncated bodies are retried; a
    // body that is not an image may be retried or failed.
    static const std::set<std::string> transient = {"500", "502", "503", "reset", "truncate", "stall"};
    return transient.count(name) || name.rfind("429-", 0) == 0 ? Expect::fetched : Expect::either;
}

// A COG of the rendering, made once, and the offset of its first tile's bytes: faults go
// on the ranges from there (GDAL reads the header and IFDs at open, in plan and in fetch).
struct Cog {
    std::string dir, file;
    long long first_data = 0;
};
const Cog& cog() {
    static const Cog c = [] {
        Cog r;
        r.dir = fresh_dir("faults-cog-" + std::to_string(::getpid()));
        r.file = r.dir + "/render.tif";
        const auto t = run("gdal_translate -q -of COG -co COMPRESS=DEFLATE -co BLOCKSIZE=256 " + sh_quote(monaco().raster) + " " + sh_quote(r.file));
        REQUIRE_MESSAGE(t.exit_code == 0, t.err);
        GDALAllRegister();
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(r.file.c_str(), GDAL_OF_RASTER));
        REQUIRE(ds);
        auto* band = ds->GetRasterBand(1);
        r.first_data = std::stoll(band->GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF"));
        for (int i = 0; i < band->GetOverviewCount(); ++i)
            r.first_data = std::min(r.first_data, std::stoll(band->GetOverview(i)->GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF")));
        return r;
    }();
    return c;
}

// The Earth Engine fake (quotas off: the builds here run side by side) and a key for it.
struct EarthEngine {
    std::string dir, credentials;
    std::unique_ptr<ServerProcess> fake;
};
const EarthEngine& earthengine() {
    static const EarthEngine e = [] {
        EarthEngine r;
        r.dir = fresh_dir("faults-earthengine-" + std::to_string(::getpid()));
        const auto key = make_rsa_key(r.dir, "key");
        const std::string email = "builder@sky-test.iam.gserviceaccount.com";
        r.fake = std::make_unique<ServerProcess>(std::vector<std::string>{
            "/usr/bin/python3", source_dir() + "/tests/earthengine_fake_server.py", "--public-key", key.public_pem, "--client-email", email,
            "--flat-png", "--max-concurrent", "0", "--max-per-second", "0"});
        r.credentials = write_service_account_key(r.dir + "/key.json", key.private_pem, email, r.fake->url("/token"), "sky-test");
        return r;
    }();
    return e;
}

constexpr const char* coverage = "coverage = [7.41, 43.727, 7.435, 43.75]\n";

std::string sources_for(const std::string& kind, const ServerProcess& server) {
    if (kind == "xyz")
        return "[[source]]\nalias = \"XYZ\"\nkind = \"xyz\"\nurl = \"" + server.url("/{z}/{x}/{y}.png") +
               "\"\ngsd = 0.6\nmax_zoom = 17\nyear = 2021\n" + coverage;
    if (kind == "gdal") return "[[source]]\nalias = \"COG\"\nkind = \"gdal\"\npath = \"/vsicurl/" + server.url("/render.tif") + "\"\nyear = 2021\n";
    return "[[source]]\nalias = \"EE\"\nkind = \"earthengine\"\ncollection = \"COPERNICUS/S2_SR_HARMONIZED\"\nproject = \"sky-test\"\n"
           "endpoint = \"" + server.url("") + "\"\ngsd = 0.5\nbands = [\"B4\", \"B3\", \"B2\"]\nstretch = [0, 255]\n" + coverage;
}

// The fault server's arguments for a kind: what it serves, and which requests may get a fault.
std::vector<std::string> server_argv(const std::string& kind, const std::vector<std::string>& schedule, int every) {
    std::vector<std::string> argv{"/usr/bin/python3", fault_server(), "--seed", "18", "--every", std::to_string(every), "--schedule", joined(schedule)};
    if (kind == "xyz") argv.insert(argv.end(), {"--root", rendering_tiles()});
    // GDAL also lists the COG's folder (GET /) at open; the faults go on the tiles' ranges.
    if (kind == "gdal")
        argv.insert(argv.end(), {"--root", cog().dir, "--min-offset", std::to_string(cog().first_data), "--only", "^/render\\.tif$"});
    if (kind == "earthengine") argv.insert(argv.end(), {"--upstream", earthengine().fake->url(""), "--only", "image:computePixels$"});
    return argv;
}

struct Build {
    std::string kind, name, out;
    int limit = 0;
    double deadline = deadline_s;
    std::unique_ptr<ServerProcess> server;
    MeasuredRun run;
    json stats, outcomes;
};

// Starts the build's server and writes its sources file; the build itself runs in run_all.
std::unique_ptr<Build> prepare(const std::string& kind, const std::string& name, const std::vector<std::string>& schedule, int every, int limit) {
    auto b = std::make_unique<Build>();
    b->kind = kind;
    b->name = name;
    b->limit = limit;
    const auto dir = fresh_dir("faults-" + name);
    b->out = dir + "/out";
    b->server = std::make_unique<ServerProcess>(server_argv(kind, schedule, every));
    write_file(dir + "/sources.toml", sources_for(kind, *b->server));
    return b;
}

void run_build(Build& b) {
    const auto dir = fs::path(b.out).parent_path().string();
    // GDAL's own timeout and retries come from --timeout and --attempts (none are set here).
    std::vector<std::string> env;
    if (b.kind == "earthengine") env.push_back("GOOGLE_APPLICATION_CREDENTIALS=" + earthengine().credentials);
    b.run = run_measured({binary(), data("osm/monaco-latest.osm.pbf"), "-o", b.out, "--sources", dir + "/sources.toml", "--catalog",
                          monaco().catalog, "--limit", std::to_string(b.limit), "--seed", "18", "--timeout", timeout_s, "--attempts",
                          std::to_string(attempts)},
                         env, b.deadline);
}

// Runs builds side by side (each its own thread: they wait on the network, not the CPU).
void run_all(const std::vector<Build*>& builds) {
    std::vector<std::thread> threads;
    for (auto* b : builds) threads.emplace_back([b] { run_build(*b); });
    for (auto& t : threads) t.join();
}

void collect(Build& b, const Build* reference) {
    b.stats = json::parse(http_get(b.server->url("/stats")));
    if (!fs::exists(b.out + "/state.sqlite")) return;
    std::string cmd = "/usr/bin/python3 " + sh_quote(source_dir() + "/tests/faults/check_outcomes.py") + " " + sh_quote(b.out);
    if (reference) cmd.append(" ").append(sh_quote(reference->out));
    const auto r = run(cmd);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    b.outcomes = json::parse(r.out);
}

struct Runs {
    std::map<std::string, std::unique_ptr<Build>> clean, faulted, retry_after, dead;
};

// Every build of the suite, run once: the clean ones first (their bytes are the reference),
// then the faulted ones and the Retry-After ones side by side.
const Runs& runs() {
    static const Runs r = [] {
        Runs all;
        (void)monaco();
        (void)rendering_tiles();
        (void)cog();
        (void)earthengine();
        // The first keys of each server meet every fault of the schedule once, then every
        // Kth key one more: xyz jobs make ~4 tile requests each (of ~120 tiles in the
        // coverage), GDAL's range requests serve many tiles each, Earth Engine makes one a job.
        const std::map<std::string, int> limit = {{"xyz", 100}, {"gdal", 80}, {"earthengine", 80}};
        const std::map<std::string, int> every = {{"xyz", 4}, {"gdal", 3}, {"earthengine", 1}};
        for (const auto& [kind, n] : limit) all.clean[kind] = prepare(kind, kind + "-clean", {}, 1, n);
        std::vector<Build*> clean;
        for (auto& [kind, b] : all.clean) clean.push_back(b.get());
        run_all(clean);
        for (auto& [kind, b] : all.clean) collect(*b, nullptr);
        std::vector<Build*> faulted;
        for (const auto& [kind, n] : limit) {
            auto schedule = every_fault;
            if (kind == "earthengine") schedule.insert(schedule.end(), 4, "ok:0"); // one key a job: leave some jobs alone
            if (kind == "gdal") schedule.push_back("429-100000:0");                 // GDAL's own retries (no Retry-After in 3.6)
            all.faulted[kind] = prepare(kind, kind + "-faults", schedule, every.at(kind), n);
            faulted.push_back(all.faulted[kind].get());
        }
        for (const std::string kind : {"xyz", "earthengine"}) {
            all.retry_after[kind] = prepare(kind, kind + "-retry-after", {"429-100000:0"}, 1, 4);
            all.retry_after[kind]->deadline = retry_after_deadline_s;
            faulted.push_back(all.retry_after[kind].get());
        }
        // A server that is down for good: every tile request stalls (xyz) or answers 503 (the
        // COG's ranges, Earth Engine's pixels) whatever the attempt. (A stalled COG holds each
        // of the two workers --timeout x --attempts a job: 32 jobs take past the deadline.)
        for (const auto& [kind, fault] : std::map<std::string, std::string>{{"xyz", "stall:0"}, {"gdal", "503:0"}, {"earthengine", "503:0"}}) {
            all.dead[kind] = prepare(kind, kind + "-dead", {fault}, 1, 100);
            faulted.push_back(all.dead[kind].get());
        }
        run_all(faulted);
        for (auto& [kind, b] : all.faulted) collect(*b, all.clean.at(kind).get());
        for (auto& [kind, b] : all.retry_after) collect(*b, nullptr);
        for (auto& [kind, b] : all.dead) collect(*b, nullptr);
        return all;
    }();
    return r;
}

std::map<std::string, std::int64_t> db_counts(const std::string& out) {
    std::map<std::string, std::int64_t> counts = {{"planned", 0}, {"fetched", 0}, {"written", 0}, {"failed", 0}};
    const auto rows = sql_column(out + "/state.sqlite", "SELECT status || ' ' || count(*) FROM jobs GROUP BY status");
    for (const auto& row : rows) counts[row.substr(0, row.find(' '))] = std::stoll(row.substr(row.find(' ') + 1));
    return counts;
}

// The faults each job met, from the fault server's keys: xyz jobs by the tiles covering
// their box at their zoom, Earth Engine jobs by their grid's origin.
std::map<std::int64_t, std::vector<std::string>> faults_by_job(const Build& b, std::set<std::string>& unmatched) {
    std::map<std::string, std::string> fault_of; // label -> fault
    for (const auto& [key, k] : b.stats["keys"].items()) {
        const std::string label = k["label"];
        // Earth Engine: the computePixels POSTs (a redirect's follow-up is a GET without the body).
        if (key.rfind("GET /stats", 0) == 0 || (b.kind == "earthengine" && key.rfind("POST /v1/projects/sky-test/image:computePixels", 0) != 0))
            continue;
        fault_of[label] = k["fault"];
        unmatched.insert(label);
    }
    std::map<std::int64_t, std::vector<std::string>> faults;
    const auto db = b.out + "/state.sqlite";
    const auto rows = sql_column(db, "SELECT job_id || ' ' || gsd || ' ' || west || ' ' || south || ' ' || east || ' ' || north || ' ' || "
                                     "printf('%.3f,%.3f', x0, y0) FROM jobs");
    for (const auto& row : rows) {
        std::istringstream in(row);
        std::int64_t id;
        double gsd;
        skyscript::imagery::LonLatBox box;
        std::string origin;
        in >> id >> gsd >> box.west >> box.south >> box.east >> box.north >> origin;
        std::vector<std::string> labels;
        if (b.kind == "xyz") {
            const int z = skyscript::imagery::xyz_zoom_for(gsd, (box.north + box.south) / 2, 256, 17);
            for (const auto& t : skyscript::imagery::xyz_covering_tiles(box, z)) {
                char path[64];
                std::snprintf(path, sizeof path, "/%d/%d/%d.png", t.z, t.x, t.y);
                labels.emplace_back(path);
            }
        } else {
            labels.push_back(origin);
        }
        auto& f = faults[id];
        for (const auto& l : labels) {
            unmatched.erase(l);
            f.push_back(fault_of.count(l) ? fault_of[l] : "unrequested");
        }
    }
    return faults;
}

void check_agrees_with_state(const Build& b) {
    const auto counts = db_counts(b.out);
    const auto status = run(sh_quote(binary()) + " status " + sh_quote(b.out) + " --json");
    CHECK_MESSAGE(status.exit_code == 0, status.err);
    if (status.exit_code != 0) return;
    const auto s = json::parse(status.out);
    std::int64_t total = 0;
    for (const auto& [k, n] : counts) {
        CHECK_MESSAGE(s["jobs"].value(k, std::int64_t{-1}) == n, b.name << ": status --json jobs." << k);
        total += n;
    }
    CHECK(s["jobs"]["total"] == total);
    CHECK_MESSAGE(fs::exists(b.out + "/report.json"), b.name << ": no report.json");
    if (!fs::exists(b.out + "/report.json")) return;
    const auto report = json::parse(read_file(b.out + "/report.json"));
    for (const auto& [k, n] : counts) CHECK_MESSAGE(report["jobs"]["by_status"].value(k, std::int64_t{-1}) == n, b.name << ": report.json jobs.by_status." << k);
    CHECK(report["jobs"]["total"] == total);
    CHECK(report["failures"]["total"] == counts.at("failed"));
    std::int64_t in_reasons = 0;
    for (const auto& f : report["failures"]["top"]) in_reasons += f["jobs"].get<std::int64_t>();
    CHECK_MESSAGE(in_reasons <= counts.at("failed"), b.name << ": report.json failure reasons count more jobs than failed");
    CHECK(report["pairs"]["total"] == counts.at("written"));
}

std::string figures_row(const Build& b) {
    char line[256];
    const auto& o = b.outcomes;
    std::snprintf(line, sizeof line, "%-12s %5lld %8lld %8lld %8lld %5lld %6lld %6lld %9.0f %7.1f%s", b.kind.c_str(),
                  o.value("jobs", -1LL), o.value("done", -1LL), o.value("failed", -1LL), o.value("corrupt", -1LL), o.value("lost", -1LL),
                  o.value("stray", -1LL), o.value("wrong_pixels", -1LL), double(b.run.peak_rss_kb) / 1024, b.run.seconds,
                  b.run.timed_out ? "  KILLED at the deadline" : "");
    return line;
}

} // namespace

TEST_CASE("every job under network faults ends fetched or failed with its reason; nothing corrupt, nothing lost, memory bounded") {
    const auto& r = runs();
    std::string table = "kind          jobs  fetched   failed  corrupt  lost  stray  wrong  peak RSS MB  seconds\n";
    for (const auto& [kind, b] : r.faulted) table += figures_row(*b) + "\n";
    table += "(clean builds of the same jobs:)\n";
    for (const auto& [kind, b] : r.clean) table += figures_row(*b) + "\n";
    MESSAGE("faults per kind (attempts " << attempts << ", --timeout " << timeout_s << "):\n" << table);

    for (const auto& [kind, clean] : r.clean) {
        INFO(clean->name << "\nstderr: " << clean->run.err);
        REQUIRE_FALSE(clean->run.timed_out);
        REQUIRE(clean->run.exit_code == 0); // the clean build of each kind fetches every job
        REQUIRE(clean->outcomes["done"] >= 15);
        REQUIRE(clean->outcomes["done"] == clean->outcomes["jobs"]);
    }
    for (const auto& [kind, bp] : r.faulted) {
        const Build& b = *bp;
        const Build& clean = *r.clean.at(kind);
        INFO(b.name << " (" << b.run.seconds << " s, exit " << b.run.exit_code << ")\nstdout: " << b.run.out << "\nstderr: " << b.run.err
                    << "\noutcomes: " << b.outcomes.dump() << "\nfault hits: " << b.stats["fault_hits"].dump() << " over "
                    << b.stats["keys"].size() << " keys");
        CHECK_FALSE(b.run.timed_out);
        CHECK(b.run.exit_code == 0); // every stage ran: failed jobs are outcomes (--retry-failed), not errors
        CHECK_FALSE(b.outcomes.is_null());
        if (b.outcomes.is_null()) continue;
        CHECK(b.outcomes["jobs"] == clean.outcomes["jobs"]); // the same plan
        CHECK(b.outcomes["lost"] == 0);
        CHECK(b.outcomes["corrupt"] == 0);
        CHECK(b.outcomes["stray"] == 0);
        CHECK(b.outcomes["wrong_pixels"] == 0);
        CHECK(b.outcomes["compared"] == b.outcomes["done"]);
        CHECK(b.outcomes["done"].get<int>() + b.outcomes["failed"].get<int>() == b.outcomes["jobs"].get<int>());
        CHECK(b.outcomes["done"] > 0);
        CHECK(b.outcomes["failed"] > 0);
        CHECK(b.run.peak_rss_kb < rss_bound_kb);
        CHECK(b.run.peak_rss_kb < clean.run.peak_rss_kb + rss_over_clean_kb);
        // Every fault of the schedule was served, no client followed a redirect to ftp://,
        // and no client read a 100 MB body to its end.
        for (const auto& f : every_fault) {
            const auto name = f.substr(0, f.find(':'));
            CHECK_MESSAGE(b.stats["fault_hits"].value(name, 0) > 0, b.name << ": fault " << name << " never served");
        }
        // GDAL 3.6's /vsicurl/ uses handles of its own with libcurl's default redirect protocols
        // (http, https, ftp, ftps) and no option to narrow them: the gdal kind's redirect to
        // ftp:// is followed there (the job then fails; README "Known limits"). Our engine's are not.
        if (kind == "gdal") MESSAGE("gdal: GDAL followed " << b.stats["ftp_connections"] << " redirects to ftp:// (known limit)");
        else CHECK(b.stats["ftp_connections"] == 0);
        CHECK(b.stats["huge_bytes_taken"].get<long long>() < huge_bytes);
        if (fs::exists(b.out + "/state.sqlite")) check_agrees_with_state(b);
        // Where the test knows each job's requests: the outcome each job's faults call for.
        if (kind == "gdal") continue;
        std::set<std::string> unmatched;
        const auto faults = faults_by_job(b, unmatched);
        CHECK_MESSAGE(unmatched.empty(), b.name << ": requests no job explains, e.g. " << (unmatched.empty() ? "" : *unmatched.begin()));
        const auto done_ids = b.outcomes["done_ids"].get<std::set<std::int64_t>>();
        const auto failed_ids = b.outcomes["failed_ids"].get<std::set<std::int64_t>>();
        int must_fail = 0, must_fetch = 0;
        for (const auto& [id, fs_of_job] : faults) {
            Expect e = Expect::fetched;
            for (const auto& f : fs_of_job) {
                if (f == "unrequested") continue;
                const auto x = expect_of(f);
                if (x == Expect::failed) e = Expect::failed;
                else if (x == Expect::either && e == Expect::fetched) e = Expect::either;
            }
            std::string list;
            for (const auto& f : fs_of_job) list += f + " ";
            if (e == Expect::failed) {
                ++must_fail;
                CHECK_MESSAGE(failed_ids.count(id), b.name << ": job " << id << " met " << list << "and was not failed");
            } else if (e == Expect::fetched) {
                ++must_fetch;
                CHECK_MESSAGE(done_ids.count(id), b.name << ": job " << id << " met only " << list << "and was not fetched");
            }
        }
        MESSAGE(b.name << ": " << must_fail << " jobs met a fault on every attempt, " << must_fetch << " only faults that clear within "
                       << attempts << " attempts");
        CHECK(must_fail > 0);
        CHECK(must_fetch > 0);
    }
}

TEST_CASE("Retry-After: 100000 is capped: the job fails with that reason instead of waiting a day") {
    const auto& r = runs();
    for (const auto& [kind, bp] : r.retry_after) {
        const Build& b = *bp;
        INFO(b.name << " (" << b.run.seconds << " s, exit " << b.run.exit_code << ")\nstdout: " << b.run.out << "\nstderr: " << b.run.err);
        CHECK_FALSE(b.run.timed_out);
        CHECK(b.run.seconds < 30);
        CHECK(b.run.exit_code == 1); // nothing was written: one line saying so
        CHECK(lines(b.run.err).size() == 1);
        CHECK_FALSE(b.outcomes.is_null());
        if (b.outcomes.is_null()) continue;
        CHECK(b.outcomes["jobs"] > 0);
        CHECK(b.outcomes["lost"] == 0);
        CHECK(b.outcomes["failed"] == b.outcomes["jobs"]);
        const auto reasons = sql_column(b.out + "/state.sqlite", "SELECT DISTINCT reason FROM jobs");
        for (const auto& reason : reasons) {
            // The reason says what the server asked for.
            CHECK_MESSAGE(reason.find("429") != std::string::npos, b.name << ": reason " << reason);
            CHECK_MESSAGE(reason.find("100000 s") != std::string::npos, b.name << ": reason " << reason);
        }
        if (fs::exists(b.out + "/state.sqlite")) check_agrees_with_state(b);
    }
}

TEST_CASE("a source down for good is stopped after 32 jobs failed in a row: its other jobs stay planned, the exit is 1") {
    const auto& r = runs();
    for (const auto& [kind, bp] : r.dead) {
        const Build& b = *bp;
        INFO(b.name << " (" << b.run.seconds << " s, exit " << b.run.exit_code << ")\nstdout: " << b.run.out << "\nstderr: " << b.run.err);
        CHECK_FALSE(b.run.timed_out); // before: every job waited out --timeout x --attempts, past the deadline
        CHECK(b.run.exit_code == 1);
        CHECK_FALSE(b.outcomes.is_null());
        if (b.outcomes.is_null()) continue;
        const auto counts = db_counts(b.out);
        MESSAGE(b.name << ": " << b.outcomes["jobs"] << " jobs, " << counts.at("failed") << " failed, " << counts.at("planned") << " planned, "
                       << b.run.seconds << " s");
        CHECK(counts.at("fetched") + counts.at("written") == 0);
        CHECK(counts.at("failed") >= 32);
        CHECK(counts.at("planned") >= 10); // not asked: the next run asks them (check_outcomes.py counts them as `lost`)
        CHECK(counts.at("failed") + counts.at("planned") == b.outcomes["jobs"].get<std::int64_t>());
        const std::string alias = kind == "xyz" ? "XYZ" : kind == "gdal" ? "COG" : "EE";
        const std::string said = "fetch: source " + alias + " stopped: 32 jobs in a row failed, with no image between them (the last: ";
        CHECK_MESSAGE(b.run.err.find(said) != std::string::npos, "stderr does not say the source was stopped");
        CHECK(b.run.out.find("its " + std::to_string(counts.at("planned")) + " other jobs stay planned for the next run") != std::string::npos);
        if (kind == "xyz") { // the summary counts reasons as the report does, not one line per tile URL
            CHECK(b.run.out.find("  failed, tile URL: Timeout was reached (after 2 attempts): ") != std::string::npos);
            CHECK(b.run.out.find("  failed, tile http") == std::string::npos);
        }
        if (fs::exists(b.out + "/state.sqlite")) check_agrees_with_state(b);
    }
}

TEST_CASE("Earth Engine's token endpoint down: that source is stopped, the xyz source beside it fetches all its jobs (red-team round 44)") {
    (void)monaco();
    (void)rendering_tiles();
    auto b = prepare("xyz", "xyz-beside-ee-down", {}, 1, 100);
    const auto dir = fs::path(b->out).parent_path().string();
    // A key whose token endpoint nothing listens on: each batch's token fails at once.
    const auto key = make_rsa_key(dir, "key");
    const auto credentials = write_service_account_key(dir + "/key.json", key.private_pem, "builder@sky-test.iam.gserviceaccount.com",
                                                       "http://127.0.0.1:" + std::to_string(free_loopback_port()) + "/token", "sky-test");
    write_file(dir + "/sources.toml", sources_for("xyz", *b->server) + "\n" + sources_for("earthengine", *earthengine().fake));
    const auto r = run_measured({binary(), data("osm/monaco-latest.osm.pbf"), "-o", b->out, "--sources", dir + "/sources.toml", "--catalog",
                                 monaco().catalog, "--limit", "100", "--seed", "18", "--timeout", timeout_s, "--attempts", "1", "--source-policy", "random"},
                                {"GOOGLE_APPLICATION_CREDENTIALS=" + credentials}, deadline_s);
    INFO(r.out << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 1);
    const auto db = b->out + "/state.sqlite";
    const auto xyz = sql_int(db, "SELECT count(*) FROM jobs WHERE source = 'XYZ'"), ee = sql_int(db, "SELECT count(*) FROM jobs WHERE source = 'EE'");
    MESSAGE("XYZ " << xyz << " jobs, EE " << ee);
    REQUIRE(xyz > 0);
    REQUIRE(ee > 0);
    // Before: "error: http://127.0.0.1:N/token: cannot get an access token (Couldn't connect to server)", XYZ's jobs all planned.
    CHECK(r.err.find("fetch: source EE stopped: its fetch failed: ") != std::string::npos);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE source = 'XYZ' AND status = 'written'") == xyz);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE source = 'EE' AND status = 'planned'") == ee);
}
