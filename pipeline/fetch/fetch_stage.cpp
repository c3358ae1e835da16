#include "pipeline/fetch/fetch_stage.hpp"
#include "pipeline/fetch/fetch_options.hpp"

#include "imagery/acquisition_time.hpp"
#include "imagery/image_source.hpp"
#include "imagery/jpeg.hpp"
#include "imagery/local_resource_error.hpp"
#include "imagery/local_file_stamp.hpp"
#include "imagery/source_kind.hpp"
#include "imagery/url_redaction.hpp"
#include "pipeline/catalog/catalog_identity.hpp"
#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/failure_class.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/source_identity.hpp"
#include "pipeline/common/system_info.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "pipeline/fetch/disk_check.hpp"
#include "pipeline/fetch/image_reuse.hpp"
#include "pipeline/plan/source_fallback.hpp"
#include "pipeline/state/build_session.hpp"
#include "tag_filters/utf8_text.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_set>

#include <malloc.h>

namespace skyscript::pipeline {

namespace {

std::string percent(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
    return buf;
}

} // namespace

namespace {

// One run of the stage: rounds over the sources with planned jobs, a batch at a time.
class FetchRun {
public:
    FetchRun(const std::string& out_dir, const FetchOptions& options, StateDb& state, bool quiet)
        : out_(out_dir), options_(options), state_(state), sources_(readable_or_stopped(options.sources)),
          fallback_(out_dir, options.plan, sources_), reuse_(options.reuse, options.min_valid), progress_("fetch", quiet, Progress::Unit::counted) {}

    FetchSummary run() {
        const auto start = std::chrono::steady_clock::now();
        // Every local source's files as they are now, just checked against the plan's record
        // (check_sources_unchanged): a source first opened hours later is held to these.
        for (const auto& source : sources_) take_stamps(source);
        if (options_.retry_failed) summary_.retried = state_.retry_failed();
        // A source whose data cannot be read now (a remote raster's server down) waits for the
        // next run; it ended the whole fetch before (red-team round 44).
        for (const auto& [alias, why] : unreadable_) stop_source(alias, "it could not be opened: " + why);
        total_ = static_cast<std::uint64_t>(state_.count_by_status()["planned"]);
        // A job passed on to a source already gone round is asked in the next round. Each
        // pass on costs a job one of its fallbacks, so the rounds end.
        // A source stopped this run (dead_source_streak) keeps its planned jobs for the next.
        const auto asked = [&] {
            auto aliases = state_.job_sources(JobStatus::planned);
            std::erase_if(aliases, [&](const std::string& a) { return stopped_.count(a) > 0; });
            return aliases;
        };
        for (auto aliases = asked(); !aliases.empty(); aliases = asked())
            for (const auto& alias : aliases) {
                if (stopped_.count(alias)) continue;
                const auto* source = find_build_source(sources_, alias);
                if (!source)
                    throw std::runtime_error(state_.path() + ": jobs of source " + alias + ", which the sources configuration no longer has");
                // The batch after is read ahead, for the source's look-ahead: this loop's results
                // change only its own batch's jobs (a job passed on goes to another source).
                auto batch = state_.jobs(JobStatus::planned, alias, -1, options_.batch);
                while (!batch.empty() && !stopped_.count(alias)) {
                    auto next = state_.jobs(JobStatus::planned, alias, batch.back().job_id, options_.batch);
                    fetch_batch(*source, batch, next);
                    batch = std::move(next);
                    // The batch's pixels and bodies are freed, but glibc keeps freed pages of
                    // its arenas mapped: given back here, the stage's memory follows the batch
                    // in flight, not the largest images met so far (issue 25).
                    ::malloc_trim(0);
                }
            }
        for (const auto& source : sources_) check_all_files(source, true); // the records since the last check, before the stage ends
        for (const auto& [alias, source] : opened_)
            if (source) summary_.requests += source->requests();
        progress_.finish();
        for (auto& [alias, why] : stopped_) {
            const auto planned = state_.count_jobs(JobStatus::planned, alias);
            if (planned == 0) continue; // none was asked of it, nor passed on to it
            announce_stop(alias);
            summary_.stopped.push_back(why + "; its " + std::to_string(planned) + " other jobs stay planned for the next run");
        }
        summary_.reuse_unused = static_cast<std::int64_t>(reuse_.available() - reuse_.used());
        summary_.reuse_refused = static_cast<std::int64_t>(reuse_.refused());
        summary_.remaining = state_.count_by_status()["planned"];
        summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return summary_;
    }

private:
    // One batch of `source`'s planned jobs: reused images, fetched ones, and those the source
    // had no imagery for passed on; recorded as they come, in transactions of up to 64.
    void fetch_batch(const BuildSource& source, std::vector<Job>& batch, const std::vector<Job>& next) {
        const auto& alias = source.config.alias;
        std::vector<imagery::TileJob> tiles;
        std::map<std::int64_t, Job*> by_id;
        std::vector<StateDb::FetchResult> results;
        std::vector<std::pair<Job*, std::string>> said_no; // jobs whose source has no imagery for their tile, and what it said
        for (auto& job : batch) {
            prepare_part(job.part);
            // The same source and grid finished in an earlier build: its pixels, no request.
            if (auto r = reused(job, source)) {
                results.push_back(std::move(*r));
                continue;
            }
            tiles.push_back({static_cast<std::uint64_t>(job.job_id), job.grid});
            by_id[job.job_id] = &job;
        }
        std::mutex mutex;
        std::exception_ptr write_error;
        std::unordered_set<std::int64_t> flat_jobs; // fetched one flat colour, not recorded yet
        // Results are recorded as they come, not only at the batch's end: a kill loses the
        // images in flight, not a whole batch of written ones (512 at the defaults), which the
        // rerun fetched and wrote again (and a build killed more often than a batch lasts
        // never got on). Every record_every results, or record_period, whichever comes first.
        constexpr std::size_t record_every = 64;
        constexpr auto record_period = std::chrono::seconds(1);
        auto last_record = std::chrono::steady_clock::now();
        bool record_failed = false;
        const auto record = [&](std::vector<Job>& moved) {
            check_raster_file(source); // before: a raster rewritten mid-fetch had its new pixels (and read errors) recorded as the old one's
            state_.record_fetched(results, moved);
            if (auto it = stamps_.find(alias); it != stamps_.end())
                for (const auto& r : results) it->second.recorded_since_all.push_back(r.job_id);
            for (const auto& r : results) {
                if (r.ok) ++summary_.fetched;
                else ++summary_.failed, ++summary_.failures[failure_class(r.reason)]; // one line per reason, not per tile URL
                if (!r.ok || r.reused) continue;
                auto& count = summary_.flat_images[alias];
                ++count.first;
                count.second += flat_jobs.erase(r.job_id);
            }
            done_ += results.size();
            results.clear();
            last_record = std::chrono::steady_clock::now();
        };
        auto& opened = opened_[alias]; // opened when a tile must be fetched: reused ones need none
        std::optional<std::string> stop; // why the source is stopped for the rest of the run, when it is
        if (!tiles.empty() && !opened) try {
            opened = imagery::open_image_source(source.config, options_.source);
        } catch (const imagery::LocalResourceError&) { // the machine's: the fetch stops
            throw;
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            // A server down as the source opens (a remote raster's header, Earth Engine's token
            // endpoint) ended the whole fetch: no other source got a job (red-team round 44).
            stop = std::string("it could not be opened: ") + e.what();
        }
        if (opened) {
            std::vector<imagery::TileJob> ahead;
            ahead.reserve(next.size());
            for (const auto& job : next) ahead.push_back({static_cast<std::uint64_t>(job.job_id), job.grid});
            opened->look_ahead(ahead);
        }
        auto& failed_in_a_row = failed_in_a_row_[alias];
        const auto on_tile = [&](imagery::FetchedTile&& t) {
            Job& job = *by_id.at(static_cast<std::int64_t>(t.id));
            StateDb::FetchResult r;
            r.job_id = job.job_id;
            bool flat = false;
            if (!t.ok && t.no_imagery) {
                std::lock_guard lock(mutex);
                said_no.emplace_back(&job, t.error);
                failed_in_a_row = 0; // an answer
                return;
            }
            if (!t.ok) {
                r.reason = t.error;
                std::lock_guard lock(mutex);
                if (!t.job_only && ++failed_in_a_row >= dead_source_streak) {
                    // Recorded as the failure it is; nothing more is asked, and the jobs in flight stay planned.
                    SourceStopped stopped(r.reason);
                    r.tried = job.tried;
                    results.push_back(std::move(r));
                    throw stopped;
                }
            } else if ((r.valid_fraction = t.valid_fraction()) < options_.min_valid || r.valid_fraction <= 0) {
                // Outside the source's data (a raster's edge, tiles a server has not): no imagery
                // here. A tile of no pixel at all is none whatever --min-valid says (at 0 such
                // black squares were written as pairs, never passed on: red-team round 32).
                std::lock_guard lock(mutex);
                said_no.emplace_back(&job, r.valid_fraction < options_.min_valid
                                               ? "only " + percent(r.valid_fraction) + " of the tile has imagery (--min-valid " + percent(options_.min_valid) + ")"
                                               : std::string("no pixel of the tile has imagery"));
                failed_in_a_row = 0;
                return;
            } else {
                const auto utc = imagery::acquisition_utc(t.time_ms); // before 1970 too: historical photographs
                r.time_ms = utc ? t.time_ms : 0;
                r.provenance = std::move(t.provenance);
                r.year = utc ? utc->tm_year + 1900 : source.config.year.value_or(0);
                r.stem = make_stem(job.id_part, alias, r.year);
                flat = t.flat(); // before the image or its JPEG is moved out
                try {
                    const auto jpeg = t.jpeg.empty() ? imagery::encode_jpeg(t.image, options_.quality) : std::move(t.jpeg); // encoded by the source
                    write_file_atomically(BuildDir(out_).image(job.part, r.stem), jpeg);
                    r.image_bytes = static_cast<std::int64_t>(jpeg.size());
                    r.ok = true;
                } catch (const std::exception&) {
                    std::lock_guard lock(mutex);
                    if (!write_error) write_error = std::current_exception();
                    return;
                }
            }
            std::lock_guard lock(mutex);
            if (r.ok) failed_in_a_row = 0;
            summary_.cpu_seconds += t.cpu_seconds;
            if (r.ok && flat) flat_jobs.insert(r.job_id); // counted as recorded, beside `fetched`
            r.tried = job.tried;
            results.push_back(std::move(r));
            progress_.update(done_ + results.size(), total_, done_ + results.size(), "jobs");
            // A record that fails here (the DB held past the wait, its disk full) is rolled back
            // and its results kept: tried again a second later, and at the batch's end, whose
            // failure stops the stage.
            if (const auto now = std::chrono::steady_clock::now(); (results.size() >= record_every && !record_failed) || now - last_record >= record_period) try {
                std::vector<Job> none;
                record(none);
                record_failed = false;
            } catch (const SourceDataChanged&) {
                throw; // the fetch stops at once
            } catch (const std::exception&) {
                record_failed = true;
                last_record = now;
            }
        };
        if (!tiles.empty() && opened) try {
            opened->fetch(tiles, on_tile);
        } catch (const SourceStopped& e) {
            stop = std::to_string(dead_source_streak) + " jobs in a row failed, with no image between them (the last: " + e.what() +
                   "; --retry-failed asks them again)";
        } catch (const SourceDataChanged&) { // the fetch stops at once
            throw;
        } catch (const imagery::LocalResourceError&) {
            throw;
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) { // a batch's own failure (Earth Engine's token refused mid-run): the source's, not the run's
            stop = std::string("its fetch failed: ") + e.what();
        }
        // No imagery: on to the next eligible source, or failed with every source's reason.
        std::vector<Job> moved;
        for (auto& [job, reason] : said_no) {
            const auto from = job->source;
            if (fallback_.move_to_next(*job, reason)) {
                ++summary_.fallbacks[{from, job->source}];
                moved.push_back(std::move(*job));
                continue;
            }
            StateDb::FetchResult r;
            r.job_id = job->job_id;
            r.reason = no_imagery_reason(*job, options_.plan.policy);
            r.tried = job->tried;
            results.push_back(std::move(r));
        }
        record(moved); // what was written is recorded even if a write failed
        check_all_files(source, false);
        if (write_error) std::rethrow_exception(write_error); // disk full and the like stop the stage
        if (stop) {
            // Its requests counted, then closed: an engine left mid-batch is not asked again.
            if (opened) summary_.requests += opened->requests();
            opened.reset();
            stop_source(alias, *stop);
        }
    }

    // The build's sources; one whose data cannot be read now is named in unreadable_, its GSD
    // (a raster's own, unknown while its server is down) taken from the jobs the plan gave it,
    // so that a job passed on to it is placed as the plan placed its own.
    std::vector<BuildSource> readable_or_stopped(const std::string& option) {
        auto sources = load_build_sources(option, &unreadable_);
        for (auto& s : sources)
            if (unreadable_.count(s.config.alias) && !(s.gsd > 0))
                for (const auto status : {JobStatus::planned, JobStatus::failed, JobStatus::fetched, JobStatus::written})
                    if (const auto some = state_.jobs(status, s.config.alias, -1, 1); !some.empty()) {
                        s.gsd = s.config.gsd = some.front().grid.gsd;
                        break;
                    }
        return sources;
    }

    // Stopped for the rest of the run, said on stderr now, or at the stage's end if it has no
    // planned job yet (a source that cannot be opened, which others may pass jobs on to).
    void stop_source(const std::string& alias, const std::string& why) {
        stopped_[alias] = "source " + alias + " stopped: " + tags::one_line(why, 600);
        failed_in_a_row_.erase(alias);
        if (state_.count_jobs(JobStatus::planned, alias) > 0) announce_stop(alias);
    }
    void announce_stop(const std::string& alias) {
        if (!announced_.insert(alias).second) return;
        progress_.finish();
        std::fprintf(stderr, "fetch: %s; its other jobs stay planned for the next run\n", stopped_.at(alias).c_str());
    }

    // A source whose last dead_source_streak jobs all failed (no image, no "no imagery here" in
    // between) is stopped for the rest of the run: a server that is down or stalled failed
    // every job after --timeout x --attempts, and a dead server in front of 100,000 jobs held
    // the fetch for days (red-team round 43). Its other jobs stay planned; the failed ones are
    // failed, so a rerun goes past jobs that fail for a reason of their own (a damaged part of
    // a raster) instead of stopping on them again.
    static constexpr int dead_source_streak = 32;
    struct SourceStopped : std::runtime_error {
        using std::runtime_error::runtime_error;
    };

    // The local files a source's pixels come from (a raster, a VRT's members), as they were
    // when the stage started. Rewritten in place during the fetch, their reads mix the two
    // files (or fail, and were failed for good); the next run refused the change, but the
    // images already recorded stayed. The raster's own file is checked before each record
    // (one stat); every file it reads (a VRT's members, maybe 100,000 of them) at a batch's
    // end when the last such check is 20 times its cost ago (at most 5% of the time), and at
    // the stage's end. A change stops the fetch: the results not recorded are dropped, and the
    // jobs recorded since the last check that passed are planned again.
    struct SourceDataChanged : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    struct Stamps {
        std::string file, all;        // local_file_stamp of its local file, data_stamp
        double all_seconds = 0;       // what data_stamp cost
        std::chrono::steady_clock::time_point all_checked;
        std::vector<std::int64_t> recorded_since_all; // jobs recorded since all was last found unchanged
    };
    void take_stamps(const BuildSource& source) {
        const auto& c = source.config;
        const auto file = c.kind->local_file(c);
        const auto t0 = std::chrono::steady_clock::now();
        auto all = c.kind->data_stamp(c);
        const auto t1 = std::chrono::steady_clock::now();
        if (!file && all.empty()) return; // a service: nothing local
        stamps_[c.alias] = {file ? imagery::local_file_stamp(*file) : std::string(), std::move(all), std::chrono::duration<double>(t1 - t0).count(), t1, {}};
    }
    [[noreturn]] void changed(const BuildSource& source, Stamps& st) {
        state_.set_status(st.recorded_since_all, JobStatus::planned);
        st.recorded_since_all.clear();
        throw SourceDataChanged("source " + source.config.alias + ": its local files changed during the fetch (" +
                                source.config.kind->local_file(source.config).value_or("its raster") +
                                "); the images read since its last check are not recorded and their jobs are planned again");
    }
    void check_raster_file(const BuildSource& source) {
        const auto it = stamps_.find(source.config.alias);
        if (it == stamps_.end()) return;
        const auto file = source.config.kind->local_file(source.config);
        if (file && imagery::local_file_stamp(*file) != it->second.file) changed(source, it->second);
    }
    void check_all_files(const BuildSource& source, bool now) {
        const auto it = stamps_.find(source.config.alias);
        if (it == stamps_.end() || it->second.recorded_since_all.empty()) return;
        auto& st = it->second;
        const auto t0 = std::chrono::steady_clock::now();
        if (!now && std::chrono::duration<double>(t0 - st.all_checked).count() < 20 * st.all_seconds) return;
        const bool same = source.config.kind->data_stamp(source.config) == st.all;
        st.all_checked = std::chrono::steady_clock::now();
        st.all_seconds = std::chrono::duration<double>(st.all_checked - t0).count();
        if (!same) changed(source, st);
        st.recorded_since_all.clear();
    }

    void prepare_part(int part) {
        if (!parts_ready_.insert(part).second) return;
        const auto dir = BuildDir(out_).own_dir(images_dir(part));
        remove_partial_files(dir); // left by a killed run
    }

    std::optional<StateDb::FetchResult> reused(const Job& job, const BuildSource& source) {
        const auto& alias = source.config.alias;
        // The year a source is configured with (gdal, xyz: their pixels tell none) is not in the
        // tile key: an image of OLD made under another year (the provider's imagery updated at
        // the same URL, a year corrected) is not this build's, which named its files and meta
        // by OLD's year.
        const bool year_configured = !source.config.kind->tells_year() && source.config.year;
        const auto fits = [&](const ImageReuse::Image& old) { return !year_configured || old.year == *source.config.year; };
        const auto taken = reuse_.take(job.tile_key, job.grid.width, [&](const ImageReuse::Image& old) { return BuildDir(out_).image(job.part, make_stem(job.id_part, alias, old.year)); },
                                       fits);
        if (!taken) return std::nullopt;
        const auto& old = *taken->image;
        StateDb::FetchResult r;
        r.job_id = job.job_id;
        r.time_ms = old.time_ms;
        r.year = old.year;
        r.valid_fraction = old.valid_fraction;
        r.provenance = old.provenance.empty() ? "" : imagery::redact_json(tags::valid_utf8(old.provenance)); // OLD's redaction may have known fewer names
        r.stem = make_stem(job.id_part, alias, r.year);
        r.image_bytes = taken->bytes;
        r.ok = true;
        r.reused = true;
        r.tried = job.tried;
        ++summary_.reused;
        return r;
    }

    std::string out_;
    const FetchOptions& options_;
    StateDb& state_;
    std::map<std::string, std::string> unreadable_; // by alias: sources whose data could not be read as the stage started (before sources_: it fills it)
    const std::vector<BuildSource> sources_;
    SourceFallback fallback_;
    ImageReuse reuse_;
    std::map<std::string, std::unique_ptr<imagery::ImageSource>> opened_;
    std::map<std::string, Stamps> stamps_; // of each local source, as the stage started
    std::map<std::string, int> failed_in_a_row_; // by alias: its jobs failed since its last answer
    std::map<std::string, std::string> stopped_; // by alias: sources stopped this run, and why
    std::set<std::string> announced_;            // those said on stderr
    Progress progress_;
    FetchSummary summary_;
    std::set<int> parts_ready_;
    std::uint64_t total_ = 0, done_ = 0;
};

} // namespace

FetchSummary run_fetch(const std::string& out_dir, const FetchOptions& options, StateDb& state, bool quiet) {
    return FetchRun(out_dir, options, state, quiet).run();
}

void print_fetch_summary(const FetchSummary& s) {
    std::printf("fetch: %lld images, %lld failed in %.2f s (%.1f images/s, %.1f ms CPU each), %llu HTTP requests, peak RSS %s\n",
                static_cast<long long>(s.fetched), static_cast<long long>(s.failed), s.seconds,
                s.seconds > 0 ? double(s.fetched) / s.seconds : 0.0, s.fetched ? 1000 * s.cpu_seconds / double(s.fetched) : 0.0,
                static_cast<unsigned long long>(s.requests), human_bytes(peak_rss_bytes()).c_str());
    if (s.reused || s.reuse_unused)
        std::printf("  reused %lld images of earlier builds (no request); %lld of theirs not needed by this build\n",
                    static_cast<long long>(s.reused), static_cast<long long>(s.reuse_unused));
    if (s.reuse_refused)
        std::printf("  %lld images of earlier builds not reused: gone, or not the size their build wrote (cut short, replaced); another build's copy taken, or the tile fetched\n",
                    static_cast<long long>(s.reuse_refused));
    if (s.retried) std::printf("  retried %lld jobs that had failed before\n", static_cast<long long>(s.retried));
    for (const auto& [from_to, n] : s.fallbacks)
        std::printf("  %s had no imagery, passed on to %s: %lld jobs\n", from_to.first.c_str(), from_to.second.c_str(), static_cast<long long>(n));
    // The most common reasons first, as people read them.
    std::vector<std::pair<std::int64_t, std::string>> reasons;
    for (const auto& [r, n] : s.failures) reasons.emplace_back(n, r);
    std::sort(reasons.rbegin(), reasons.rend());
    for (std::size_t i = 0; i < reasons.size() && i < 10; ++i)
        std::printf("  failed, %s: %lld\n", reasons[i].second.c_str(), static_cast<long long>(reasons[i].first));
    if (reasons.size() > 10) std::printf("  ... and %zu other reasons (see report.json)\n", reasons.size() - 10);
    for (const auto& why : s.stopped) std::printf("  %s\n", why.c_str());
    for (const auto& [alias, count] : s.flat_images)
        if (count.first >= 3 && count.second * 10 >= count.first * 9) // most of a few at least: one is open water, at times
            std::printf("  warning: source %s: %lld of the %lld images fetched are one flat colour: a `stretch` that misses the raster's "
                        "values, a band without data, or a server's blank tiles? (docs/sources.md)\n",
                        alias.c_str(), static_cast<long long>(count.second), static_cast<long long>(count.first));
}

namespace {

std::int64_t flat_total(const FetchSummary& s) {
    std::int64_t n = 0;
    for (const auto& [alias, count] : s.flat_images) n += count.second;
    return n;
}

std::int64_t fallbacks_total(const FetchSummary& s) {
    std::int64_t n = 0;
    for (const auto& [from_to, jobs] : s.fallbacks) n += jobs;
    return n;
}

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
    // A raster not there is no other dataset: a relative path in the sources file is read from
    // the folder a stage runs in (a fetch run from elsewhere was told the raster "changed" and
    // to remove the state DB, all the build's work).
    for (const auto& source : sources)
        if (const auto file = source.kind->local_file(source); file && !file->empty() && !std::filesystem::exists(*file)) {
            std::error_code ec;
            const auto here = std::filesystem::current_path(ec).string();
            throw std::runtime_error(s.out_dir + ": the raster of source " + source.alias + ", " + *file + ", is not there" +
                                     (std::filesystem::path(*file).is_relative()
                                          ? " from this folder (" + here + "): a relative path in the sources file is read from the folder a stage runs in; run it "
                                                                           "from the folder the build was planned in, or give the path whole"
                                          : ": put it back; OUT is unchanged"));
        }
    if (const auto why = sources_change(before, now, sources))
        throw std::runtime_error(s.out_dir + ": " + *why + " since OUT was planned, which would mix two datasets in one folder; use another -o, or remove " +
                                 s.state->path() + " to start over");
    if (now != before) s.state->store_sources_identity(now); // recorded by an older version (sources_change): now in full
}

// The tag list the fallbacks would read, checked as the fetch starts rather than at its first
// fallback, hours in. One that cannot be read now is left to them: they say so if they need it.
void check_tags_unchanged(BuildSession& s) {
    const auto option = s.options.text("tags");
    if (option.empty() || !std::filesystem::exists(s.catalog_path())) return;
    std::optional<tags::TagList> list;
    try {
        list = load_tag_option(option);
    } catch (const tags::TagListError&) {
        return;
    }
    check_tag_list_unchanged(CatalogReader(s.catalog_path()).meta(), s.catalog_path(), option, *list);
}

} // namespace

StageSummary stage_fetch(BuildSession& s) {
    check_sources_unchanged(s); // planned: run_stage_command checks it for `fetch OUT`; the bare command plans first
    check_tags_unchanged(s);
    restore_outputs_once(s, "fetch");
    const auto summary = run_fetch(s.out_dir, fetch_options(s.options), *s.state, s.quiet);
    if (!s.quiet) print_fetch_summary(summary);
    auto done = StageSummary::finished(summary.seconds,
                                       nlohmann::json{{"fetched", summary.fetched}, {"failed", summary.failed}, {"requests", summary.requests},
                                                      {"reused", summary.reused}, {"reuse_unused", summary.reuse_unused},
                                                      {"fallbacks", fallbacks_total(summary)}, {"flat", flat_total(summary)}}.dump());
    done.complete = summary.remaining == 0;
    return done;
}

} // namespace skyscript::pipeline
