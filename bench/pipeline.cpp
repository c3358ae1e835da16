// bench/pipeline: the whole build against its parts' ceilings, measured in one run.
//   1. images/s of the bare command (extract, plan, fetch, write) on a real extract with an
//      xyz source on the loopback bench-tile-server (50 ms latency), against the raw fetch
//      rate of the very same tile grids through the xyz source alone (fetch + JPEG encode,
//      as bench/fetch measures it), same in-flight limit and workers. Goal >= 0.9: the
//      bookkeeping, captions, surroundings and writing cost under 10%.
//   2. the plan stage's objects/s on one core (taskset -c 0) on the 64x tiled input of
//      bench/extract (the faster of two runs). Goal >= 50,000/s. Beside it, the state DB's
//      share as a floor: the same jobs copied alone into a fresh state DB (one INSERT ...
//      SELECT, no binding; its indexes dropped and made again and the commit under a rollback
//      journal, as the plan does), on the same core: no plan that writes these jobs can take less, so it bounds
//      the plan's objects/s. Then the same plan on every core (--threads 0), its jobs checked
//      against the one-core plan's, and its speed-up.
//   3. peak RSS of plan and of fetch+write for N and 10 N jobs. Goal: flat.
//
//   bench-pipeline [--images 1500] [--in-flight 64] [--latency-ms 50]

#include "pipeline/common/system_info.hpp"
#include "pipeline/state/state_db.hpp"
#include "test_support.hpp"
#include "imagery/source_config.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"
#include "imagery/sources/xyz/xyz_source.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include <sys/resource.h>
#include <sys/wait.h>

using namespace skyscript;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Timed {
    int exit_code = -1;
    double seconds = 0;
    double peak_rss_mb = 0;
    std::string out;
};

// Runs a shell command; wall time and the peak RSS of the process tree (wait4 of the shell's child).
Timed timed(const std::string& command) {
    Timed t;
    const auto start = Clock::now();
    const std::string out_file = fs::temp_directory_path() / ("bench-pipeline-" + std::to_string(::getpid()) + ".out");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", (command + " >" + out_file + " 2>&1").c_str(), nullptr);
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    t.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    t.peak_rss_mb = double(usage.ru_maxrss) / 1024.0;
    t.out = test::read_file(out_file);
    fs::remove(out_file);
    return t;
}

void require(const Timed& t, const std::string& what) {
    if (t.exit_code == 0) return;
    std::fprintf(stderr, "bench/pipeline: %s failed (exit %d):\n%s\n", what.c_str(), t.exit_code, t.out.c_str());
    std::exit(1);
}

} // namespace

int main(int argc, char** argv) {
    int images = 1500, in_flight = 64;
    double latency_ms = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--images")) images = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--in-flight")) in_flight = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--latency-ms")) latency_ms = std::atof(argv[i + 1]);
    }
    const std::string root = test::source_dir(), build = SKYSCRIPT_BUILD_DIR, bin = build + "/skyscript-build";
    const auto work = test::fresh_dir("bench_pipeline");
    const unsigned cores = static_cast<unsigned>(pipeline::usable_cores()); // what --threads 0 takes
    test::ServerProcess server({build + "/bench-tile-server", "--tiles", root + "/tests/data/tiles/17", "--latency-ms",
                                std::to_string(latency_ms)});
    const std::string sources = work + "/sources.toml";
    test::write_file(sources, "[[source]]\nalias = \"BENCH\"\nkind = \"xyz\"\nurl = \"" + server.url("/{z}/{x}/{y}.jpg") +
                                  "\"\ngsd = 0.6\nmax_zoom = 19\nyear = 2024\n");
    const std::string pbf = root + "/tests/data/osm/liechtenstein-2013-08-03.osm.pbf";
    const std::string flags = " --sources " + test::sh_quote(sources) + " --in-flight " + std::to_string(in_flight) + " -q";

    // 1. The whole build and the raw fetch of the same grids, alternately, twice (medians of 2 = means).
    auto whole_build = [&](int round) {
        const auto out = work + "/build-" + std::to_string(round);
        const auto t = timed(bin + " " + pbf + " -o " + out + flags + " --limit " + std::to_string(images));
        require(t, "the bare command");
        return t;
    };
    const auto first = whole_build(0);
    const auto db = work + "/build-0/state.sqlite";
    const auto written = test::sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'");
    std::vector<std::pair<std::uint64_t, imagery::TileGrid>> grids;
    {
        pipeline::StateDb state(db, false); // the grids as the fetch stage read them
        for (const auto& job : state.jobs(pipeline::JobStatus::written, "", -1, SIZE_MAX))
            grids.emplace_back(static_cast<std::uint64_t>(job.job_id), job.grid);
    }
    const auto source = imagery::xyz_source("BENCH", server.url("/{z}/{x}/{y}.jpg"), 0.6, 19);
    auto raw_fetch = [&] {
        imagery::HttpEngineOptions http;
        http.max_in_flight = in_flight;
        imagery::HttpEngine engine(http);
        std::atomic<int> ok{0};
        const auto start = Clock::now();
        imagery::fetch_xyz_images(source, grids, engine, imagery::network_image_workers(0, pipeline::usable_cores()), 90, [&](imagery::XyzImage&& r) {
            if (r.ok && !r.jpeg.empty()) ++ok; // encoded as made, as the fetch stage has them
        });
        return std::pair{ok.load(), std::chrono::duration<double>(Clock::now() - start).count()};
    };
    const auto [raw_ok, raw1] = raw_fetch();
    const auto second = whole_build(1);
    const auto raw2 = raw_fetch().second;
    const double build_seconds = (first.seconds + second.seconds) / 2, raw_seconds = (raw1 + raw2) / 2;
    const double fetch_stage_seconds = (std::stod(test::sql_column(db, "SELECT seconds FROM stages WHERE stage = 'fetch'")[0]) +
                                        std::stod(test::sql_column(work + "/build-1/state.sqlite", "SELECT seconds FROM stages WHERE stage = 'fetch'")[0])) / 2;
    const double pipeline_rate = double(written) / build_seconds, raw_rate = raw_ok / raw_seconds;

    // 2. The plan stage on one core, on bench/extract's 64x input.
    const auto big = build + "/bench-extract/input-64x.osm.pbf";
    if (!fs::exists(big)) {
        fs::create_directories(build + "/bench-extract");
        require(timed(build + "/bench-tile-input " + pbf + " 64 " + big), "bench-tile-input");
    }
    require(timed(bin + " extract " + big + " -o " + work + "/big -q"), "extract of the 64x input");
    // Twice, from no state DB each time, the faster reported: this VM's speed moves by up to a
    // fifth between runs a minute apart, never in the program's favour.
    std::vector<Timed> plan_runs;
    for (int round = 0; round < 2; ++round) {
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(work + "/big/state.sqlite" + suffix);
        plan_runs.push_back(timed("taskset -c 0 " + bin + " plan " + work + "/big" + flags + " --threads 1"));
        require(plan_runs.back(), "plan of the 64x input");
    }
    const auto faster = [](const Timed& a, const Timed& b) { return a.seconds < b.seconds; };
    const auto plan = std::min(plan_runs[0], plan_runs[1], faster);
    // The same plan on every core (--threads 0), also twice, in a folder of its own: its jobs
    // must be the one-core plan's, column for column.
    const auto all_cores_dir = work + "/big-all-cores";
    fs::create_directories(all_cores_dir);
    fs::copy_file(work + "/big/catalog.gpkg", all_cores_dir + "/catalog.gpkg", fs::copy_options::overwrite_existing);
    std::vector<Timed> all_core_runs;
    for (int round = 0; round < 2; ++round) {
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(all_cores_dir + "/state.sqlite" + suffix);
        all_core_runs.push_back(timed(bin + " plan " + all_cores_dir + flags + " --threads 0"));
        require(all_core_runs.back(), "plan of the 64x input on every core");
    }
    const auto plan_all_cores = std::min(all_core_runs[0], all_core_runs[1], faster);
    const auto other_state = work + "/big/state.sqlite";
    const auto differing = test::rows_differing(all_cores_dir + "/state.sqlite", other_state, "jobs") +
                           test::rows_differing(all_cores_dir + "/state.sqlite", other_state, "skipped");
    if (differing != 0) {
        std::fprintf(stderr, "bench/pipeline: the plan on every core made other jobs or skip counts than on one (%lld rows differ)\n", static_cast<long long>(differing));
        return 1;
    }
    const auto sampled = test::sql_int(work + "/big/state.sqlite", "SELECT count(*) FROM jobs") +
                         test::sql_int(work + "/big/state.sqlite", "SELECT coalesce(sum(objects), 0) FROM skipped");
    // The floor: an empty state DB as the program makes it (schema, page size, WAL), then the
    // plan's transaction with the rows copied instead of made, under a rollback journal as the
    // plan's (StateDb::begin_plan).
    const auto floor_db = work + "/floor.sqlite";
    { pipeline::StateDb created(floor_db, true); }
    std::string drops, creates;
    for (const auto& name : test::sql_column(floor_db, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL"))
        drops += "DROP INDEX " + name + "; ";
    for (const auto& sql : test::sql_column(floor_db, "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL"))
        creates += sql + "; ";
    test::write_file(work + "/floor.sql", "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA cache_size = -16384; ATTACH '" + work + "/big/state.sqlite' AS planned; BEGIN IMMEDIATE; " + drops +
                                              "INSERT INTO main.jobs SELECT * FROM planned.jobs; " + creates + "COMMIT;\n");
    const auto floor = timed("taskset -c 0 sqlite3 " + test::sh_quote(floor_db) + " < " + test::sh_quote(work + "/floor.sql"));
    require(floor, "the state DB floor (sqlite3)");
    const auto floor_jobs = test::sql_int(floor_db, "SELECT count(*) FROM jobs");
    if (floor_jobs != test::sql_int(work + "/big/state.sqlite", "SELECT count(*) FROM jobs")) {
        std::fprintf(stderr, "bench/pipeline: the floor's copy lacks jobs\n");
        return 1;
    }

    // 3. Peak RSS for N and 10 N jobs: plan on the 64x catalog, and fetch + write.
    std::vector<std::pair<long long, Timed>> plans, fetches;
    std::vector<std::int64_t> largest_image; // px a side, per fetch+write run
    for (long long n : {20000LL, 200000LL}) {
        const auto out = work + "/rss-plan-" + std::to_string(n);
        fs::create_directories(out);
        fs::copy_file(work + "/big/catalog.gpkg", out + "/catalog.gpkg");
        const auto t = timed(bin + " plan " + out + flags + " --limit " + std::to_string(n));
        require(t, "plan --limit");
        plans.emplace_back(n, t);
    }
    // fetch + write on bench/extract's 8x input (enough objects for 10x the jobs), batches of 256.
    const auto medium = build + "/bench-extract/input-8x.osm.pbf";
    if (!fs::exists(medium)) require(timed(build + "/bench-tile-input " + pbf + " 8 " + medium), "bench-tile-input");
    for (int n : {700, 7000}) {
        const auto out = work + "/rss-fetch-" + std::to_string(n);
        require(timed(bin + " extract " + medium + " -o " + out + " -q"), "extract");
        require(timed(bin + " plan " + out + flags + " --limit " + std::to_string(n)), "plan");
        const auto t = timed(bin + " fetch " + out + flags + " --batch 256 && " + bin + " write " + out + " -q");
        require(t, "fetch + write");
        fetches.emplace_back(test::sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs"), t);
        // What grows with the jobs is the chance of a larger image (bounded by --max-px).
        largest_image.push_back(test::sql_int(out + "/state.sqlite", "SELECT max(width) FROM jobs"));
    }

    std::printf("bench/pipeline: Liechtenstein, xyz source on loopback (%.0f ms latency, %d in flight), %u cores\n", latency_ms, in_flight, cores);
    std::printf("  whole build      %8.1f images/s  (%lld images in %.1f s: extract, plan, fetch, write; mean of 2)\n", pipeline_rate,
                static_cast<long long>(written), build_seconds);
    std::printf("  fetch stage      %8.1f images/s  (%.1f s of it)\n", double(written) / fetch_stage_seconds, fetch_stage_seconds);
    std::printf("  raw fetch        %8.1f images/s  (the same %zu grids: xyz source + JPEG encode, %.1f s; mean of 2, alternating)\n", raw_rate,
                grids.size(), raw_seconds);
    std::printf("  ratio to raw fetch: %.2f   (goal >= 0.90)\n", pipeline_rate / raw_rate);
    std::printf("  plan, one core   %8.0f objects/s  (%lld sampled objects of the 64x input in %.1f s, the faster of %.1f and %.1f; peak RSS %.0f MB; goal >= 50,000/s)\n",
                double(sampled) / plan.seconds, static_cast<long long>(sampled), plan.seconds, plan_runs[0].seconds, plan_runs[1].seconds, plan.peak_rss_mb);
    std::printf("  plan, %u cores    %8.0f objects/s  (%.1f s, the faster of %.1f and %.1f; %.2fx one core; the same jobs, column for column)\n", cores,
                double(sampled) / plan_all_cores.seconds, plan_all_cores.seconds, all_core_runs[0].seconds, all_core_runs[1].seconds,
                plan.seconds / plan_all_cores.seconds);
    std::printf("  state DB floor   %8.0f objects/s  (its %lld jobs copied alone into a fresh state DB in %.1f s; the plan's other work %.1f s)\n",
                double(sampled) / floor.seconds, static_cast<long long>(floor_jobs), floor.seconds, plan.seconds - floor.seconds);
    for (const auto& [n, t] : plans)
        std::printf("  plan  --limit %-7lld peak RSS %6.0f MB  (%.1f s)\n", n, t.peak_rss_mb, t.seconds);
    for (std::size_t i = 0; i < fetches.size(); ++i)
        std::printf("  fetch+write %6lld jobs  peak RSS %6.0f MB  (%.1f s; largest image %lld px a side)\n", fetches[i].first,
                    fetches[i].second.peak_rss_mb, fetches[i].second.seconds, static_cast<long long>(largest_image[i]));
    std::printf("  RSS ratio at 10x jobs: plan %.2f, fetch+write %.2f   (goal: flat, ~1.0)\n",
                plans[1].second.peak_rss_mb / plans[0].second.peak_rss_mb, fetches[1].second.peak_rss_mb / fetches[0].second.peak_rss_mb);
    return 0;
}
