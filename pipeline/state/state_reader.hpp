#pragma once
// OUT/state.sqlite opened read-only, for `report`, `status` and --reuse: they may run while a
// build writes (the DB is in WAL mode, so readers see the last committed batch and never
// block or disturb the writer; but for the plan's one transaction, which holds the DB), and
// they must never change a build's record. Every query
// they need is here, so that the state DB's schema is known to pipeline/state/ alone.

#include "pipeline/common/sqlite_db.hpp"
#include "pipeline/state/job.hpp"

#include <cstdint>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// Why OUT has no state.sqlite (asked only when it has none): a merge making it
// (state.sqlite.merging, the lock held or not known to be free), a merge stopped before it put
// it in place, a run holding the lock before it has made one (a merge checking its shards, a
// build's first moment), or no build. `lock_held`: build_lock_held(out_dir), which the caller
// may have asked already.
enum class NoStateDb { merge_making, merge_stopped, run_starting, no_build };
NoStateDb why_no_state_db(const std::string& out_dir, std::optional<bool> lock_held);

// That, as the one-line error of a stage or tool that needs a state DB.
std::string no_state_db_here(const std::string& out_dir, const char* also_missing = "");

class StateReader {
public:
    // Throws std::runtime_error naming OUT when it has no state DB, or PATH when it is not one;
    // SqliteError when it cannot be read now (why_unreadable tells), after waiting up to
    // `wait_ms` for a lock.
    explicit StateReader(const std::string& out_dir, int wait_ms = 10000);

    // Why a read of a state DB failed, when it is for a while, not for good: a plan is writing
    // its jobs (it holds the DB until it commits them: StateDb::begin_plan), or a run stopped in
    // the middle of its plan left a rollback journal that only a writer can apply (the next run
    // of the build does; until then no reader can open the DB).
    enum class Unreadable { no, plan_writing, plan_interrupted };
    static Unreadable why_unreadable(const SqliteError& e);

    std::map<std::string, std::int64_t> count_by_status();                     // planned fetched written failed (all four present)
    std::map<std::string, std::map<std::string, std::int64_t>> count_by_source_status();
    std::map<std::string, std::int64_t> skipped();                             // reason -> objects
    std::map<std::string, std::string> options();
    std::set<std::string> finished_stages();
    // Which catalog the plan was made from (StateDb::catalog_identity); "" if not recorded.
    std::string catalog_identity();
    // Which sources the build's jobs were planned with (StateDb::sources_identity); "" if not recorded.
    std::string sources_identity();
    // What fetched and written jobs should have on disk (StateDb::for_each_with_files).
    void for_each_with_files(const std::function<void(const JobFiles&)>& fn);

    // The URI the DB was opened by (read-only), for an ATTACH on a connection that takes URIs.
    const std::string& uri() const { return uri_; }
    // Whether it was read as immutable (a folder this process may not write): its WAL, if any, unread.
    bool immutable() const { return immutable_; }

    struct StageRecord {
        std::string stage, finished_at, summary_json;
        double seconds = 0;
    };
    std::vector<StageRecord> stage_records();

    // Written jobs: distinct focus tags, center tags (key=value), and caption texts.
    struct WrittenVariety {
        std::int64_t focus_tags = 0, tags = 0, titles = 0, multi_titles = 0;
    };
    WrittenVariety written_variety();
    // Written jobs counted by source, year ("0": unknown), kind, GSD (rounded to cm), focus tag (most first).
    std::map<std::string, std::int64_t> written_by_source();
    std::map<std::string, std::int64_t> written_by_year();
    std::map<std::string, std::int64_t> written_by_kind();
    std::map<double, std::int64_t> written_by_gsd();
    std::vector<std::pair<std::string, std::int64_t>> written_by_focus_tag();
    // The box of the written images: west, south, east, north (none written: nullopt; images
    // across the antimeridian are left out of it).
    std::optional<std::array<double, 4>> written_extent();
    // The terms of each source with written images (the plan's record; "" when it has none) and their count.
    struct SourceTermsCount {
        std::string alias, licence, attribution;
        std::int64_t images = 0;
    };
    std::vector<SourceTermsCount> written_by_source_terms();
    // Fetched and written jobs: how many images came from an earlier build (--reuse), of how many.
    std::pair<std::int64_t, std::int64_t> reused_of_finished();
    // Every job's passes on from a source with no imagery to the next (fallback_hops), counted
    // by (from, to); and the jobs no eligible source had imagery for (failed, having tried them all).
    std::map<std::pair<std::string, std::string>, std::int64_t> fallbacks();
    std::int64_t every_source_said_no();
    // Whether a written job has no polish record (the polish stage has not reached it), or one
    // of its captions' requests failed (a rerun asks again; such a polish ended incomplete, and
    // status had said "finished") (an older state DB without the column: false).
    bool written_owing_polish();
    // Whether a polish run has started in this OUT (StateDb::mark_polish_started).
    bool polish_started();
    // Written jobs with a caption whose polish request failed (0 without the column).
    std::int64_t polish_failed_jobs();

    struct FailureReason {
        std::string reason;
        std::int64_t jobs = 0, first_job = 0;
    };
    std::vector<FailureReason> failure_reasons();
    // "n123 building=yes (SRC), 3 attempts" parts of one job: id_part, focus_tag, source, attempts.
    struct JobBrief {
        std::string id_part, focus_tag, source;
        std::int64_t attempts = 0;
    };
    std::optional<JobBrief> job_brief(std::int64_t job_id);

    struct JobImage {
        std::int64_t job_id = 0;
        std::string name;  // its stem, or its id_part before it has one
        int part = 1;
        std::string source, focus_tag;
        double west = 0, south = 0, east = 0, north = 0, gsd = 0;
        int year = 0;
    };
    void for_each_with_status(const std::string& status, const std::function<void(const JobImage&)>& fn);
    // What the gallery shows of one job: its captions, and its objects (meta `objects`) in its image's pixels.
    struct JobCard {
        std::string title, title_multi_objects, objects;
        std::string title_polished; // "" when not polished (or a state DB older than the column)
        int width = 0;
    };
    JobCard card(std::int64_t job_id);

    std::vector<std::string> sources();
    // A source's newest `limit` fetched or written images: (part, stem), newest first.
    std::vector<std::pair<int, std::string>> newest_images(const std::string& source, std::int64_t limit);

    struct FinishedImage {
        std::string tile_key, stem;
        int part = 1, year = 0;
        long long time_ms = 0;
        double valid_fraction = 0;
        std::string provenance;
        long long image_bytes = -1; // its size when it was placed; -1: not recorded (an older version's build)
    };
    void for_each_finished_image(const std::function<void(const FinishedImage&)>& fn);

private:
    bool has_table(const char* table);
    std::string identity_in(const char* table);

    std::unique_ptr<SqliteDb> db_;
    std::string uri_;
    bool immutable_ = false;
};

} // namespace skyscript::pipeline
