#pragma once
// OUT/state.sqlite: the one record of what a build has done. Every job with its status
// (planned -> fetched -> written, or failed with its reason and attempts), the options the
// build used, the plan's skip counts by reason, and which stages have finished. Stages
// read and update it in large transactions; nothing else decides what is done. WAL mode,
// so `status` and the report can read it while a build runs.

#include "imagery/source_config.hpp"
#include "pipeline/common/sqlite_db.hpp"
#include "pipeline/common/stage_names.hpp"
#include "pipeline/state/job.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

class StateDb {
public:
    // Opens (creating when `create`) OUT/state.sqlite.
    StateDb(const std::string& path, bool create);

    const std::string& path() const noexcept { return db_.path(); }

    std::map<std::string, std::string> options();
    void store_options(const std::map<std::string, std::string>& options);

    // The licence and attribution of each source the plan was made with (its images' meta
    // carries them: Job::licence, Job::attribution). Replaced by every plan.
    void store_source_terms(const std::vector<imagery::SourceConfig>& sources);
    void store_source_terms(const std::map<std::string, std::pair<std::string, std::string>>& terms); // alias -> (licence, attribution)
    bool has_source_terms(); // false for a build planned before they were recorded
    // alias -> (licence, attribution), as recorded.
    std::map<std::string, std::pair<std::string, std::string>> source_terms();

    // What defined the sources' pixels when the plan was made (source_identity.hpp); "" if not recorded.
    std::string sources_identity();
    void store_sources_identity(const std::string& identity);
    // Which catalog the plan was made from (catalog/catalog_identity.hpp); "" if not recorded.
    std::string catalog_identity();
    void store_catalog_identity(const std::string& identity);

    bool stage_finished(StageName stage);
    bool any_stage_finished();
    void finish_stage(StageName stage, double seconds, const std::string& summary_json);
    // Forgets a stage and every later one (a rerun of plan discards fetch and write marks).
    void reset_stages_from(StageName stage);

    // The plan stage's output replaces all jobs and skip counts in one transaction, streamed
    // (memory stays flat however many jobs there are): begin_plan, add_job..., end_plan.
    void begin_plan();
    void add_job(const Job& job);
    void end_plan(const std::map<std::string, std::int64_t>& skipped);
    std::map<std::string, std::int64_t> skipped();

    // Jobs with this status (all sources when `source` is ""), job_id > after, in job order.
    std::vector<Job> jobs(JobStatus status, const std::string& source, std::int64_t after, std::size_t limit);
    static std::string jobs_sql(bool of_source); // the query jobs() runs (tests read its plan)
    std::vector<std::string> job_sources(JobStatus status);
    std::int64_t count_jobs(JobStatus status, const std::string& source);
    std::map<std::string, std::int64_t> count_by_status();
    // Failed jobs whose every eligible source said it has no imagery there (a failure for good,
    // whatever a rerun does), as opposed to a server's errors past --attempts.
    std::int64_t failed_for_want_of_imagery();

    // Results, applied in one transaction.
    struct FetchResult {
        std::int64_t job_id = 0;
        bool ok = false;
        std::string stem, reason;
        long long time_ms = 0;
        int year = 0;
        double valid_fraction = 0;
        bool reused = false; // the image came from an earlier build (--reuse), not from the source
        std::vector<TriedSource> tried; // failed: the sources that said no before (the job's `tried`)
        std::string provenance;         // ok: FetchedTile::provenance
        std::int64_t image_bytes = -1;  // ok: the image's size, which a resume compares with the file's; -1: unknown (NULL, unchecked)
    };
    // `moved`: jobs that go on to their next source (source_fallback.hpp), still planned.
    void record_fetched(const std::vector<FetchResult>& results, const std::vector<Job>& moved = {});
    // `meta_bytes`: each job's meta file's size, as written (a resume compares it with the file's).
    void record_written(const std::vector<std::int64_t>& job_ids, const std::vector<std::int64_t>& meta_bytes);
    // The sizes of `jobs`' meta files written again (the polish stage, an upgrade's licences).
    void record_meta_bytes(const std::vector<Job>& jobs, const std::vector<std::int64_t>& meta_bytes);
    // Every written job's meta file due to be made again: its recorded size 0 matches no file,
    // so a run killed before record_meta_bytes reaches it writes it again on resume.
    void meta_files_due();
    // The polish stage's results, in one transaction: each job's polished caption entries
    // (captions::polished_caption_fields(); a field without an entry becomes NULL) and its `polish` record.
    void record_polished(const std::vector<Job>& jobs);
    // Forgets that `stage` finished (the polish stage, while it changes captions the meta files must follow).
    void unfinish_stage(StageName stage);
    // A polish run has started: until one finishes, the polish is owed whatever the jobs'
    // records say (a run stopped part way leaves two models' or prompts' captions, and
    // meta.jsonl as the run before wrote it).
    void mark_polish_started();
    bool polish_started();
    // A stage's record as stored (nullopt: not finished), to be put back as it was by
    // restore_stage when the run that forgot it turns out to change nothing.
    struct StageRecord {
        std::string stage, finished_at, summary_json;
        double seconds = 0;
    };
    std::optional<StageRecord> stage_record(StageName stage);
    void restore_stage(const StageRecord& record);
    // Failed jobs back to planned (--retry-failed).
    std::int64_t retry_failed();

    // Whether a written job has this part and stem: its files are images{part}/{stem}.jpg and
    // meta{part}/{stem}.pickle. One indexed lookup a file, so the write stage's sweep of files no
    // job names holds no set of every name (~200 bytes a job: ~1 GB at 5 M images).
    bool names_written(int part, std::string_view stem);
    static std::string names_written_sql(); // the query names_written() runs (tests read its plan)
    // What fetched and written jobs should have on disk (the fetched in job order, then the written).
    void for_each_with_files(const std::function<void(const JobFiles&)>& fn);
    // Jobs whose files went missing, back to an earlier status (planned: fetch again; fetched: write again).
    void set_status(const std::vector<std::int64_t>& job_ids, JobStatus status);

    // Streams written jobs in job order (CSV, meta.jsonl).
    void for_each_written(const std::function<void(const Job&)>& fn);

private:
    std::string identity_in(const char* table);
    void store_identity_in(const char* table, const std::string& identity);
    void forget_stage(std::string_view stage);
    void add_missing_columns();
    // PRAGMA journal_mode = `mode` (lower case, as SQLite answers): whether it took; false when
    // another connection's read stands in the way.
    bool set_journal_mode(const std::string& mode);
    // Binds every planned column of `job` by name (":column") and runs `q` once.
    static void step_with_planned_columns(SqliteStatement& q, const Job& job);
    SqliteDb db_;
    std::unique_ptr<SqliteStatement> insert_job_;
    std::unique_ptr<SqliteStatement> names_written_;
    bool plan_rollback_ = false; // the plan's transaction runs with a rollback journal (begin_plan)
};

} // namespace skyscript::pipeline
