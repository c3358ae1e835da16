#include "pipeline/fetch/fetch_stage.hpp"
#include "pipeline/fetch/fetch_options.hpp"

#include "imagery/image_source.hpp"
#include "imagery/jpeg.hpp"
#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/source_identity.hpp"
#include "pipeline/common/system_info.hpp"
#include "pipeline/fetch/disk_check.hpp"
#include "pipeline/fetch/image_reuse.hpp"
#include "pipeline/state/build_session.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <set>

namespace skyscript::pipeline {

namespace {

int year_of(long long time_ms) {
    const std::time_t t = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

std::string percent(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
    return buf;
}

} // namespace

FetchSummary run_fetch(const std::string& out_dir, const FetchOptions& options, StateDb& state, bool quiet) {
    const auto start = std::chrono::steady_clock::now();
    FetchSummary summary;
    if (options.retry_failed) summary.retried = state.retry_failed();
    const auto sources = load_build_sources(options.sources);
    ImageReuse reuse(options.reuse);

    const auto total = static_cast<std::uint64_t>(state.count_by_status()["planned"]);
    Progress progress{"fetch", quiet, Progress::Unit::counted};
    std::uint64_t done = 0;
    std::set<int> parts_ready;
    for (const auto& alias : state.job_sources(JobStatus::planned)) {
        const auto it = std::find_if(sources.begin(), sources.end(), [&](const BuildSource& s) { return s.config.alias == alias; });
        if (it == sources.end())
            throw std::runtime_error(state.path() + ": jobs of source " + alias + ", which the sources configuration no longer has");
        std::unique_ptr<imagery::ImageSource> source; // opened when a tile must be fetched: reused ones need none
        std::int64_t after = -1;
        for (;;) {
            const auto batch = state.jobs(JobStatus::planned, alias, after, options.batch);
            if (batch.empty()) break;
            after = batch.back().job_id;
            std::vector<imagery::TileJob> tiles;
            std::map<std::int64_t, const Job*> by_id;
            std::vector<StateDb::FetchResult> results;
            for (const auto& job : batch) {
                if (parts_ready.insert(job.part).second) {
                    const auto dir = BuildDir(out_dir).path(images_dir(job.part));
                    std::filesystem::create_directories(dir);
                    remove_partial_files(dir); // left by a killed run
                }
                // The same source and grid finished in an earlier build: its pixels, no request.
                if (const auto* old = reuse.find(job.tile_key)) {
                    StateDb::FetchResult r;
                    r.job_id = job.job_id;
                    r.time_ms = old->time_ms;
                    r.year = old->year;
                    r.valid_fraction = old->valid_fraction;
                    r.stem = make_stem(job.id_part, alias, r.year);
                    if (ImageReuse::place(*old, BuildDir(out_dir).image(job.part, r.stem))) {
                        r.ok = true;
                        r.reused = true;
                        results.push_back(std::move(r));
                        ++summary.reused;
                        continue;
                    }
                }
                tiles.push_back({static_cast<std::uint64_t>(job.job_id), job.grid});
                by_id[job.job_id] = &job;
            }
            std::mutex mutex;
            std::exception_ptr write_error;
            if (!tiles.empty() && !source) source = imagery::open_image_source(it->config, options.source);
            if (!tiles.empty()) source->fetch(tiles, [&](imagery::FetchedTile&& t) {
                const Job& job = *by_id.at(static_cast<std::int64_t>(t.id));
                StateDb::FetchResult r;
                r.job_id = job.job_id;
                if (!t.ok) {
                    r.reason = t.error;
                } else if ((r.valid_fraction = t.image.valid_fraction()) < options.min_valid) {
                    r.reason = "only " + percent(r.valid_fraction) + " of the tile has imagery (--min-valid " + percent(options.min_valid) + ")";
                } else {
                    r.time_ms = t.time_ms;
                    r.year = t.time_ms > 0 ? year_of(t.time_ms) : it->config.year.value_or(0);
                    r.stem = make_stem(job.id_part, alias, r.year);
                    try {
                        const auto jpeg = imagery::encode_jpeg(t.image, options.quality);
                        write_file_atomically(BuildDir(out_dir).image(job.part, r.stem), jpeg);
                        r.ok = true;
                    } catch (const std::exception&) {
                        std::lock_guard lock(mutex);
                        if (!write_error) write_error = std::current_exception();
                        return;
                    }
                }
                std::lock_guard lock(mutex);
                summary.cpu_seconds += t.cpu_seconds;
                results.push_back(std::move(r));
                progress.update(done + results.size(), total, done + results.size(), "jobs");
            });
            state.record_fetched(results); // what was written is recorded even if a write failed
            if (write_error) std::rethrow_exception(write_error); // disk full and the like stop the stage
            for (const auto& r : results) {
                if (r.ok) ++summary.fetched;
                else ++summary.failed, ++summary.failures[r.reason];
            }
            done += batch.size();
        }
        if (source) summary.requests += source->requests();
    }
    progress.finish();
    summary.reuse_unused = static_cast<std::int64_t>(reuse.available() - reuse.used());
    summary.remaining = state.count_by_status()["planned"];
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

void print_fetch_summary(const FetchSummary& s) {
    std::printf("fetch: %lld images, %lld failed in %.2f s (%.1f images/s, %.1f ms CPU each), %llu HTTP requests, peak RSS %s\n",
                static_cast<long long>(s.fetched), static_cast<long long>(s.failed), s.seconds,
                s.seconds > 0 ? double(s.fetched) / s.seconds : 0.0, s.fetched ? 1000 * s.cpu_seconds / double(s.fetched) : 0.0,
                static_cast<unsigned long long>(s.requests), human_bytes(peak_rss_bytes()).c_str());
    if (s.reused || s.reuse_unused)
        std::printf("  reused %lld images of earlier builds (no request); %lld of theirs not needed by this build\n",
                    static_cast<long long>(s.reused), static_cast<long long>(s.reuse_unused));
    if (s.retried) std::printf("  retried %lld jobs that had failed before\n", static_cast<long long>(s.retried));
    // The most common reasons first, as people read them.
    std::vector<std::pair<std::int64_t, std::string>> reasons;
    for (const auto& [r, n] : s.failures) reasons.emplace_back(n, r);
    std::sort(reasons.rbegin(), reasons.rend());
    for (std::size_t i = 0; i < reasons.size() && i < 10; ++i)
        std::printf("  failed, %s: %lld\n", reasons[i].second.c_str(), static_cast<long long>(reasons[i].first));
    if (reasons.size() > 10) std::printf("  ... and %zu other reasons (see report.json)\n", reasons.size() - 10);
}

namespace {

// Refuses to go on with sources whose pixels are not those the plan was made with (a raster
// replaced, a URL edited in the same file): the images would mix two datasets.
void check_sources_unchanged(BuildSession& s) {
    const auto sources = configured_sources(s.options.text("sources"));
    const auto now = sources_identity(sources);
    const auto before = s.state->sources_identity();
    if (before.empty()) { // planned before identities were recorded
        s.state->store_sources_identity(now);
        return;
    }
    if (const auto why = sources_change(before, now, sources))
        throw std::runtime_error(s.out_dir + ": " + *why + " since OUT was planned, which would mix two datasets in one folder; use another -o, or remove " +
                                 s.state->path() + " to start over");
}

} // namespace

StageSummary stage_fetch(BuildSession& s) {
    if (!s.state->stage_finished("plan")) throw std::runtime_error(s.out_dir + ": not planned yet; run `skyscript-build plan " + s.out_dir + "` first");
    check_sources_unchanged(s);
    restore_outputs_once(s, "fetch");
    const auto summary = run_fetch(s.out_dir, fetch_options(s.options), *s.state, s.quiet);
    if (!s.quiet) print_fetch_summary(summary);
    auto done = StageSummary::finished(summary.seconds,
                                       nlohmann::json{{"fetched", summary.fetched}, {"failed", summary.failed}, {"requests", summary.requests},
                                                      {"reused", summary.reused}, {"reuse_unused", summary.reuse_unused}}.dump());
    done.complete = summary.remaining == 0;
    return done;
}

} // namespace skyscript::pipeline
