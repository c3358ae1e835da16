#include "pipeline/state/state_reader.hpp"

#include "pipeline/state/job.hpp"
#include "pipeline/state/state_queries.hpp"

#include "imagery/url_parts.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/state/build_lock.hpp"
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unistd.h>

namespace skyscript::pipeline {

namespace {

// A path as a file: URI's path (RFC 3986: what is not unreserved or / percent-encoded), absolute.
std::string uri_path(const std::string& path) {
    return imagery::percent_encoded(std::filesystem::absolute(path).string(), "/");
}

} // namespace

NoStateDb why_no_state_db(const std::string& out_dir, std::optional<bool> lock_held) {
    if (std::error_code ec; std::filesystem::exists(BuildDir(out_dir).merging_state_db(), ec))
        return lock_held == false ? NoStateDb::merge_stopped : NoStateDb::merge_making;
    return lock_held == true ? NoStateDb::run_starting : NoStateDb::no_build;
}

std::string no_state_db_here(const std::string& out_dir, const char* also_missing) {
    // Red-team round 33: during a merge, status, report and split said "no build here; start one".
    switch (why_no_state_db(out_dir, build_lock_held(out_dir))) {
    case NoStateDb::merge_stopped:
        return out_dir + ": a merge stopped before it put its state DB in place (state.sqlite.merging is left): run the merge again";
    case NoStateDb::merge_making:
        return out_dir + ": a merge is making this build (its state DB is not in place yet): run this again once it has finished";
    case NoStateDb::run_starting: { // review of round 33: a merge checking its shards
        const auto holder = build_lock_holder(out_dir);
        return out_dir + ": no state DB yet; a run holds the build's lock (" + (holder.empty() ? std::string("it has not said who it is yet") : holder) +
               "): run this again once it has made one";
    }
    case NoStateDb::no_build: break;
    }
    return out_dir + ": no build here (no state.sqlite" + also_missing + "); start one with `skyscript-build INPUT.osm.pbf -o " + out_dir + "`";
}

StateReader::StateReader(const std::string& out_dir, int wait_ms) {
    const auto path = BuildDir(out_dir).state_db();
    own_file(path); // a link or a FIFO said as such, not as "no build here"
    if (!std::filesystem::is_regular_file(path)) throw std::runtime_error(no_state_db_here(out_dir));
    const auto probe = [&](int flags, const std::string& name) {
        db_ = std::make_unique<SqliteDb>(name, flags);
        sqlite3_busy_timeout(db_->handle(), wait_ms);
        // The tables it lacks, named: "" when it has them all.
        std::string missing;
        for (const char* table : {"jobs", "stages", "options", "skipped"}) {
            auto q = db_->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
            q.bind(1, std::string_view(table));
            if (!(q.step() && q.column_int(0) == 1)) missing += std::string(missing.empty() ? "" : ", ") + table;
        }
        return missing;
    };
    std::string tables;
    try {
        uri_ = "file:" + uri_path(path) + "?mode=ro";
        tables = probe(SQLITE_OPEN_READONLY, path);
    } catch (const SqliteError& e) { // SQLite's own words ("attempt to write a readonly database") would not say why
        switch (why_unreadable(e)) {
        case Unreadable::plan_writing:
            throw SqliteError(path + ": a plan is writing its jobs, and the state DB is locked until it commits them; try again then", e.code());
        case Unreadable::plan_interrupted:
            throw SqliteError(path + ": a run stopped in the middle of its plan, and its rollback journal must be applied first: run the build "
                                     "(or `skyscript-build plan " + out_dir + "`) again",
                              e.code());
        case Unreadable::no:
            break;
        }
        // A folder this process may not write (another user's build, a read-only mount, a
        // published copy): a WAL database's reader must make its -shm file there, unless no
        // writer can change the DB, which then is read as it is on disk (immutable: its WAL,
        // if any, unread; a build running there under its owner is seen as of its last checkpoint).
        const auto dir = std::filesystem::path(path).parent_path();
        if (::access((dir.empty() ? std::filesystem::path(".") : dir).c_str(), W_OK) == 0) throw;
        if (::access(path.c_str(), R_OK) != 0) throw SqliteError(path + ": not readable by this user (" + std::strerror(errno) + ")", e.code());
        uri_ = "file:" + uri_path(path) + "?mode=ro&immutable=1";
        immutable_ = true;
        try {
            tables = probe(SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, uri_);
        } catch (const SqliteError& again) { // named by its path, not by the URI it was opened by
            std::string what = again.what();
            if (const auto at = what.find(uri_); at != std::string::npos) what.replace(at, uri_.size(), path);
            throw SqliteError(what, again.code());
        }
    }
    // Without its jobs table it is no state DB at all; one that has it is named by what it lacks.
    if (tables.starts_with("jobs")) throw std::runtime_error(path + ": not a skyscript-build state DB (no jobs table)");
    if (!tables.empty()) throw std::runtime_error(path + ": not a skyscript-build state DB (no " + tables + " table" + (tables.find(',') == std::string::npos ? "" : "s") + ")");
}

StateReader::Unreadable StateReader::why_unreadable(const SqliteError& e) {
    // Plain SQLITE_BUSY: a lock held past the wait, which only the plan's transaction does (not
    // SQLITE_BUSY_RECOVERY, a WAL being recovered, nor the WAL's other kinds of busy).
    if (e.code() == SQLITE_BUSY) return Unreadable::plan_writing;
    if (e.code() == SQLITE_READONLY_ROLLBACK) return Unreadable::plan_interrupted;
    return Unreadable::no;
}

namespace {

using state_queries::text_counts;

std::int64_t scalar(SqliteDb& db, const char* sql) {
    auto q = db.prepare(sql);
    return q.step() ? q.column_int(0) : 0;
}

} // namespace

std::map<std::string, std::int64_t> StateReader::count_by_status() { return state_queries::count_by_status(*db_); }

std::map<std::string, std::map<std::string, std::int64_t>> StateReader::count_by_source_status() {
    std::map<std::string, std::map<std::string, std::int64_t>> out;
    auto q = db_->prepare("SELECT source, status, count(*) FROM jobs GROUP BY source, status");
    while (q.step()) out[q.column_text(0)][q.column_text(1)] = q.column_int(2);
    return out;
}

std::map<std::string, std::int64_t> StateReader::skipped() { return state_queries::skipped(*db_); }

std::map<std::string, std::string> StateReader::options() { return state_queries::options(*db_); }

void StateReader::for_each_with_files(const std::function<void(const JobFiles&)>& fn) { state_queries::for_each_with_files(*db_, fn); }

std::set<std::string> StateReader::finished_stages() {
    std::set<std::string> out;
    auto q = db_->prepare("SELECT stage FROM stages");
    while (q.step()) out.insert(q.column_text(0));
    return out;
}

std::vector<StateReader::StageRecord> StateReader::stage_records() {
    std::vector<StageRecord> out;
    auto q = db_->prepare("SELECT stage, finished_at, seconds, summary FROM stages");
    while (q.step()) out.push_back({q.column_text(0), q.column_text(1), q.column_text(3), q.column_double(2)});
    return out;
}

StateReader::WrittenVariety StateReader::written_variety() {
    WrittenVariety v;
    v.focus_tags = scalar(*db_, "SELECT count(DISTINCT focus_tag) FROM jobs WHERE status = 'written'");
    v.tags = scalar(*db_, "SELECT count(DISTINCT t.key || '=' || t.value) FROM jobs, json_each(jobs.center_tags) t WHERE jobs.status = 'written'");
    v.titles = scalar(*db_, "SELECT count(DISTINCT title) FROM jobs WHERE status = 'written'");
    v.multi_titles = scalar(*db_, "SELECT count(DISTINCT title_multi_objects) FROM jobs WHERE status = 'written'");
    return v;
}

bool StateReader::has_table(const char* table) {
    auto exists = db_->prepare("SELECT count(*) FROM sqlite_master WHERE name = ?");
    exists.bind(1, std::string_view(table));
    return exists.step() && exists.column_int(0) > 0;
}

std::string StateReader::identity_in(const char* table) {
    if (!has_table(table)) return ""; // an older state DB
    auto q = db_->prepare(std::string("SELECT identity FROM ") + table);
    return q.step() ? q.column_text(0) : std::string();
}

std::string StateReader::catalog_identity() { return identity_in("catalog_identity"); }
std::string StateReader::sources_identity() { return identity_in("sources_identity"); }

std::vector<StateReader::SourceTermsCount> StateReader::written_by_source_terms() {
    std::vector<SourceTermsCount> out;
    // An older state DB has no source_terms table: every source's terms are then unknown.
    const bool recorded = has_table("source_terms");
    auto q = db_->prepare(recorded ? "SELECT j.source, coalesce(t.licence, ''), coalesce(t.attribution, ''), count(*) FROM jobs j "
                                     "LEFT JOIN source_terms t ON t.alias = j.source WHERE j.status = 'written' GROUP BY j.source ORDER BY j.source"
                                   : "SELECT source, '', '', count(*) FROM jobs WHERE status = 'written' GROUP BY source ORDER BY source");
    while (q.step()) out.push_back({q.column_text(0), q.column_text(1), q.column_text(2), q.column_int(3)});
    return out;
}

std::map<std::string, std::int64_t> StateReader::written_by_source() {
    return text_counts(*db_, "SELECT source, count(*) FROM jobs WHERE status = 'written' GROUP BY source");
}

std::map<std::string, std::int64_t> StateReader::written_by_year() {
    std::map<std::string, std::int64_t> out;
    auto q = db_->prepare("SELECT coalesce(year, 0), count(*) FROM jobs WHERE status = 'written' GROUP BY 1");
    while (q.step()) out[std::to_string(q.column_int(0))] = q.column_int(1);
    return out;
}

std::map<std::string, std::int64_t> StateReader::written_by_kind() {
    return text_counts(*db_, "SELECT kind, count(*) FROM jobs WHERE status = 'written' GROUP BY kind");
}

std::map<double, std::int64_t> StateReader::written_by_gsd() {
    std::map<double, std::int64_t> out;
    auto q = db_->prepare("SELECT round(gsd, 2), count(*) FROM jobs WHERE status = 'written' GROUP BY 1");
    while (q.step()) out[q.column_double(0)] = q.column_int(1);
    return out;
}

std::optional<std::array<double, 4>> StateReader::written_extent() {
    auto q = db_->prepare("SELECT min(west), min(south), max(east), max(north), count(*) FROM jobs WHERE status = 'written' AND west <= east");
    if (!q.step() || q.column_int(4) == 0) return std::nullopt;
    return std::array<double, 4>{q.column_double(0), q.column_double(1), q.column_double(2), q.column_double(3)};
}

std::vector<std::pair<std::string, std::int64_t>> StateReader::written_by_focus_tag() {
    std::vector<std::pair<std::string, std::int64_t>> out;
    auto q = db_->prepare("SELECT focus_tag, count(*) AS n FROM jobs WHERE status = 'written' GROUP BY focus_tag ORDER BY n DESC, focus_tag");
    while (q.step()) out.emplace_back(q.column_text(0), q.column_int(1));
    return out;
}

std::pair<std::int64_t, std::int64_t> StateReader::reused_of_finished() {
    auto q = db_->prepare("SELECT coalesce(sum(reused), 0), count(*) FROM jobs WHERE status IN ('fetched', 'written')");
    return q.step() ? std::pair{q.column_int(0), q.column_int(1)} : std::pair<std::int64_t, std::int64_t>{0, 0};
}

// A state DB made before a column or table was added lacks it (a reader adds none): `tried` and
// `fallbacks` came with fallback, `provenance` with the stac kind, `image_bytes` with --reuse,
// `title_polished` with polish; `source_terms` and the identity tables with later plans.
std::map<std::pair<std::string, std::string>, std::int64_t> StateReader::fallbacks() {
    std::map<std::pair<std::string, std::string>, std::int64_t> out;
    if (!state_queries::has_jobs_column(*db_, "tried")) return out;
    auto q = db_->prepare("SELECT source, tried FROM jobs WHERE tried != '[]'");
    while (q.step())
        for (auto& hop : fallback_hops(q.column_text(0), parse_tried_sources(q.column_text(1)))) ++out[std::move(hop)];
    return out;
}

namespace {

// A job's polish record (JSON, by caption) says a request of its failed: "failed: REASON ...".
constexpr const char* polish_failed = "json_valid(polish) AND (json_extract(polish, '$.title') LIKE 'failed: %' OR "
                                      "json_extract(polish, '$.title_multi_objects') LIKE 'failed: %')";

} // namespace

bool StateReader::written_owing_polish() {
    if (!state_queries::has_jobs_column(*db_, "polish")) return false;
    return db_->prepare("SELECT 1 FROM jobs WHERE status = 'written' AND (polish IS NULL OR (" + std::string(polish_failed) + ")) LIMIT 1").step();
}

bool StateReader::polish_started() { return state_queries::polish_started(*db_); }

std::int64_t StateReader::polish_failed_jobs() {
    if (!state_queries::has_jobs_column(*db_, "polish")) return 0;
    auto q = db_->prepare("SELECT count(*) FROM jobs WHERE status = 'written' AND polish IS NOT NULL AND " + std::string(polish_failed));
    return q.step() ? q.column_int(0) : 0;
}

std::int64_t StateReader::every_source_said_no() {
    if (!state_queries::has_jobs_column(*db_, "tried")) return 0;
    // A failed job whose last try is its source: no source left to ask (fallback_hops). Not
    // a job of --source-policy all, whose object another source's job may have imaged.
    std::int64_t n = 0;
    auto q = db_->prepare("SELECT source, tried FROM jobs WHERE status = 'failed' AND tried != '[]' AND coalesce(reason, '') NOT LIKE 'source % has no imagery here (%'");
    while (q.step()) {
        const auto tried = parse_tried_sources(q.column_text(1));
        n += !tried.empty() && tried.back().source == q.column_text(0);
    }
    return n;
}

std::vector<StateReader::FailureReason> StateReader::failure_reasons() {
    std::vector<FailureReason> out;
    auto q = db_->prepare("SELECT coalesce(reason, ''), count(*), min(job_id) FROM jobs WHERE status = 'failed' GROUP BY 1");
    while (q.step()) out.push_back({q.column_text(0), q.column_int(1), q.column_int(2)});
    return out;
}

std::optional<StateReader::JobBrief> StateReader::job_brief(std::int64_t job_id) {
    auto q = db_->prepare("SELECT id_part, focus_tag, source, attempts FROM jobs WHERE job_id = ?");
    q.bind(1, job_id);
    if (!q.step()) return std::nullopt;
    return JobBrief{q.column_text(0), q.column_text(1), q.column_text(2), q.column_int(3)};
}

void StateReader::for_each_with_status(const std::string& status, const std::function<void(const JobImage&)>& fn) {
    auto q = db_->prepare("SELECT job_id, coalesce(stem, id_part), part, source, focus_tag, west, south, east, north, gsd, year FROM jobs WHERE status = ?");
    q.bind(1, std::string_view(status));
    while (q.step()) {
        JobImage im;
        im.job_id = q.column_int(0);
        im.name = q.column_text(1);
        im.part = static_cast<int>(q.column_int(2));
        im.source = q.column_text(3);
        im.focus_tag = q.column_text(4);
        im.west = q.column_double(5);
        im.south = q.column_double(6);
        im.east = q.column_double(7);
        im.north = q.column_double(8);
        im.gsd = q.column_double(9);
        im.year = static_cast<int>(q.column_int(10));
        fn(im);
    }
}

StateReader::JobCard StateReader::card(std::int64_t job_id) {
    // Opened read-only, an older state DB keeps its columns: the polished one may be missing.
    const bool has_polished = state_queries::has_jobs_column(*db_, "title_polished");
    auto q = db_->prepare(std::string("SELECT title, title_multi_objects, objects, width, ") + (has_polished ? "title_polished" : "NULL") +
                          " FROM jobs WHERE job_id = ?");
    q.bind(1, job_id);
    if (!q.step()) return {};
    return {q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(4), static_cast<int>(q.column_int(3))};
}

std::vector<std::string> StateReader::sources() {
    std::vector<std::string> out;
    auto q = db_->prepare("SELECT DISTINCT source FROM jobs");
    while (q.step()) out.push_back(q.column_text(0));
    return out;
}

std::vector<std::pair<int, std::string>> StateReader::newest_images(const std::string& source, std::int64_t limit) {
    // The newest of each finished status, an index range read backwards up to the limit, then
    // merged: one query over both statuses sorted every finished job to find them.
    std::vector<std::tuple<std::int64_t, int, std::string>> newest;
    auto q = db_->prepare("SELECT job_id, part, stem FROM jobs WHERE status = ? AND source = ? AND stem IS NOT NULL ORDER BY job_id DESC LIMIT ?");
    for (const std::string_view status : {"fetched", "written"}) {
        q.bind(1, status).bind(2, source).bind(3, limit);
        while (q.step()) newest.emplace_back(q.column_int(0), static_cast<int>(q.column_int(1)), q.column_text(2));
        q.reset();
    }
    std::sort(newest.begin(), newest.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    newest.resize(std::min(newest.size(), static_cast<std::size_t>(std::max<std::int64_t>(limit, 0))));
    std::vector<std::pair<int, std::string>> out;
    for (auto& [id, part, stem] : newest) out.emplace_back(part, std::move(stem));
    return out;
}

void StateReader::for_each_finished_image(const std::function<void(const FinishedImage&)>& fn) {
    auto q = db_->prepare(std::string("SELECT tile_key, part, stem, coalesce(time_ms, 0), coalesce(year, 0), coalesce(valid_fraction, 0), ") +
                          (state_queries::has_jobs_column(*db_, "provenance") ? "coalesce(provenance, '')" : "''") + ", " +
                          (state_queries::has_jobs_column(*db_, "image_bytes") ? "coalesce(image_bytes, -1)" : "-1") + " FROM jobs WHERE status IN ('fetched', 'written')");
    while (q.step()) {
        FinishedImage im;
        im.tile_key = q.column_text(0);
        im.part = static_cast<int>(q.column_int(1));
        im.stem = q.column_text(2);
        im.time_ms = q.column_int(3);
        im.year = static_cast<int>(q.column_int(4));
        im.valid_fraction = q.column_double(5);
        im.provenance = q.column_text(6);
        im.image_bytes = q.column_int(7);
        fn(im);
    }
}

} // namespace skyscript::pipeline
