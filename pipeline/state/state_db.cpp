#include "pipeline/state/state_db.hpp"

#include "pipeline/common/build_dir.hpp"

#include "captions/caption_styles.hpp"
#include "pipeline/state/state_queries.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace skyscript::pipeline {

std::string_view status_name(JobStatus s) noexcept {
    switch (s) {
        case JobStatus::planned: return "planned";
        case JobStatus::fetched: return "fetched";
        case JobStatus::written: return "written";
        case JobStatus::failed: return "failed";
    }
    return "?";
}

JobStatus parse_status(std::string_view s) noexcept {
    if (s == "fetched") return JobStatus::fetched;
    if (s == "written") return JobStatus::written;
    if (s == "failed") return JobStatus::failed;
    return JobStatus::planned;
}

namespace {

constexpr const char* schema_sql = R"SQL(
CREATE TABLE IF NOT EXISTS options (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stages (stage TEXT PRIMARY KEY NOT NULL, finished_at TEXT NOT NULL, seconds REAL, summary TEXT);
CREATE TABLE IF NOT EXISTS sources_identity (one INTEGER PRIMARY KEY CHECK (one = 1), identity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_identity (one INTEGER PRIMARY KEY CHECK (one = 1), identity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (reason TEXT PRIMARY KEY NOT NULL, objects INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS source_terms (alias TEXT PRIMARY KEY NOT NULL, licence TEXT NOT NULL, attribution TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS polish_started (one INTEGER PRIMARY KEY CHECK (one = 1), started_at TEXT NOT NULL);
)SQL";

// The jobs table: these columns, one TEXT column per registered caption field between them
// (captions/caption_styles.hpp: a new style needs no edit here), then its indexes.
constexpr const char* jobs_head_sql = R"SQL(
CREATE TABLE IF NOT EXISTS jobs (
  job_id INTEGER PRIMARY KEY, fid INTEGER NOT NULL, osm_type TEXT NOT NULL, osm_id INTEGER NOT NULL, kind TEXT NOT NULL,
  focus_tag TEXT NOT NULL, source TEXT NOT NULL, id_part TEXT NOT NULL, part INTEGER NOT NULL,
  epsg INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, gsd REAL NOT NULL, x0 REAL NOT NULL, y0 REAL NOT NULL,
  west REAL NOT NULL, south REAL NOT NULL, east REAL NOT NULL, north REAL NOT NULL, tile_key TEXT NOT NULL,
  center_tags TEXT NOT NULL, surrounding_tags TEXT NOT NULL, fallbacks TEXT NOT NULL DEFAULT '', tried TEXT NOT NULL DEFAULT '[]',
  objects TEXT NOT NULL DEFAULT '[]',
  )SQL";
constexpr const char* jobs_tail_sql = R"SQL(
  status TEXT NOT NULL DEFAULT 'planned', reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
  stem TEXT, time_ms INTEGER, year INTEGER, valid_fraction REAL, reused INTEGER NOT NULL DEFAULT 0, provenance TEXT,
  polish TEXT, image_bytes INTEGER, meta_bytes INTEGER);
)SQL";
// The jobs table's indexes (name, columns): made with the table, and again at the end of each
// plan, which drops them while it inserts (built once from the rows, not a B-tree insert a job:
// the tile keys come in random order). jobs_status_id serves the stages' batches (jobs()) in
// job order, a range of it a batch; it replaced jobs_status (status, source, job_id), which
// gave no job order across sources, so that every batch sorted all the jobs left of its status
// (for the fetch, 0.07 s a batch at 232 K jobs: ~1.5 s a batch of 256 images at 5 M). Its
// source column, last, lets a batch of one source skip the others' jobs in the index, and
// `status` and the report count jobs by source and status from the index, not the table.
// jobs_stem answers the write stage's sweep of files, one lookup a file (names_written).
constexpr std::pair<const char*, const char*> jobs_indexes[] = {
    {"jobs_status_id", "status, job_id, source"}, {"jobs_tile_key", "tile_key"}, {"jobs_stem", "stem"}};
// Older layouts of it, dropped when a state DB is opened for writing.
constexpr const char* retired_indexes_sql = "DROP INDEX IF EXISTS jobs_status; DROP INDEX IF EXISTS jobs_by_status;";

std::string jobs_indexes_sql(bool create) {
    std::string sql;
    for (const auto& [name, columns] : jobs_indexes)
        sql += create ? std::string("CREATE INDEX IF NOT EXISTS ") + name + " ON jobs (" + columns + ");\n"
                      : std::string("DROP INDEX IF EXISTS ") + name + ";\n";
    return sql;
}

// A caption field is a column name: refused unless it is a plain SQL identifier.
const std::vector<std::string>& caption_columns() {
    static const std::vector<std::string> columns = [] {
        std::vector<std::string> out;
        for (const auto field : captions::all_caption_fields()) {
            if (field.empty() || field.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos ||
                (field[0] >= '0' && field[0] <= '9'))
                throw std::logic_error("caption field `" + std::string(field) + "` is not a lowercase SQL identifier");
            out.emplace_back(field);
        }
        return out;
    }();
    return columns;
}

std::string jobs_schema_sql() {
    // The always-run style's fields are NOT NULL, as every job has them.
    const auto& always = captions::caption_style_kinds()[0]->fields;
    std::string sql = jobs_head_sql;
    for (const auto& c : caption_columns()) {
        const bool required = std::find(always.begin(), always.end(), c) != always.end();
        sql += c + (required ? " TEXT NOT NULL, " : " TEXT, ");
    }
    sql.pop_back();
    return sql + jobs_tail_sql + jobs_indexes_sql(true);
}

// The columns the plan fills, bound by name (":column") in add_job; the caption columns follow.
constexpr const char* planned_columns[] = {"job_id", "fid",  "osm_type", "osm_id", "kind",     "focus_tag",   "source", "id_part",
                                           "part",   "epsg", "width",    "height", "gsd",      "x0",          "y0",     "west",
                                           "south",  "east", "north",    "tile_key", "center_tags", "surrounding_tags", "fallbacks", "tried", "objects"};

// Columns added since the first state DBs, with what an older DB's jobs have: no fallback.
constexpr std::pair<const char*, const char*> later_columns[] = {{"fallbacks", "TEXT NOT NULL DEFAULT ''"},
                                                                 {"tried", "TEXT NOT NULL DEFAULT '[]'"},
                                                                 {"provenance", "TEXT"},
                                                                 {"objects", "TEXT NOT NULL DEFAULT '[]'"},
                                                                 {"polish", "TEXT"},
                                                                 {"image_bytes", "INTEGER"},
                                                                 {"meta_bytes", "INTEGER"}};

// ":field" for a caption column: made once, so that a statement knows it by its address (SqliteStatement::parameter).
const std::string& caption_parameter(std::string_view field) {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& f : caption_columns()) {
            std::string name(1, ':'); // appended, not `":" + string`: GCC 12 warns (-Wrestrict) on the latter, wrongly
            name += f;
            out.push_back(std::move(name));
        }
        return out;
    }();
    for (const auto& n : names)
        if (std::string_view(n).substr(1) == field) return n;
    throw std::logic_error("no caption field `" + std::string(field) + "`");
}

// Caption column `field`'s parameter (":field"): the job's entry for it, NULL when it has none
// (its style did not run, or it was not polished).
void bind_caption(SqliteStatement& q, const Job& j, std::string_view field) {
    const char* name = caption_parameter(field).c_str();
    const auto e = std::find_if(j.captions.begin(), j.captions.end(), [&](const auto& entry) { return entry.field == field; });
    if (e == j.captions.end()) q.bind_null(name);
    else q.bind(name, std::string_view(e->text));
}

// fallbacks: aliases ([A-Za-z0-9], source_config.hpp) with a space between.
std::string fallbacks_text(const std::vector<std::string>& aliases) {
    std::string out;
    for (const auto& a : aliases) out += (out.empty() ? "" : " ") + a;
    return out;
}

std::vector<std::string> parse_fallbacks(const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < text.size();) {
        const auto end = std::min(text.find(' ', i), text.size());
        if (end > i) out.push_back(text.substr(i, end - i));
        i = end + 1;
    }
    return out;
}


// The SELECT list read_job reads: the planned columns, the fetch's, then each caption column with whether it is set.
const std::string& job_columns() {
    static const std::string columns = [] {
        std::string out;
        for (const char* c : planned_columns) out.append(out.empty() ? "" : ", ").append(c);
        out += ", status, reason, attempts, stem, time_ms, year, valid_fraction, provenance, polish";
        // The terms of the job's source, as the plan recorded them (source_terms).
        out += ", (SELECT licence FROM source_terms WHERE alias = jobs.source), (SELECT attribution FROM source_terms WHERE alias = jobs.source)";
        for (const auto& c : caption_columns()) out += ", " + c + ", " + c + " IS NOT NULL";
        return out;
    }();
    return columns;
}

Job read_job(const SqliteStatement& q) {
    Job j;
    int c = 0;
    j.job_id = q.column_int(c++);
    j.fid = q.column_int(c++);
    j.osm_type = q.column_text(c++)[0];
    j.osm_id = q.column_int(c++);
    j.kind = q.column_text(c++)[0];
    j.focus_tag = q.column_text(c++);
    j.source = q.column_text(c++);
    j.id_part = q.column_text(c++);
    j.part = static_cast<int>(q.column_int(c++));
    auto& g = j.grid;
    g.epsg = static_cast<int>(q.column_int(c++));
    g.width = static_cast<int>(q.column_int(c++));
    g.height = static_cast<int>(q.column_int(c++));
    g.gsd = q.column_double(c++);
    g.geotransform[0] = q.column_double(c++);
    g.geotransform[1] = g.gsd;
    g.geotransform[3] = q.column_double(c++);
    g.geotransform[5] = -g.gsd;
    g.center_x = g.geotransform[0] + g.width * g.gsd / 2;
    g.center_y = g.geotransform[3] - g.height * g.gsd / 2;
    g.box.west = q.column_double(c++);
    g.box.south = q.column_double(c++);
    g.box.east = q.column_double(c++);
    g.box.north = q.column_double(c++);
    j.tile_key = q.column_text(c++);
    j.center_tags = q.column_text(c++);
    j.surrounding_tags = q.column_text(c++);
    j.fallbacks = parse_fallbacks(q.column_text(c++));
    j.tried = parse_tried_sources(q.column_text(c++));
    j.objects = q.column_text(c++);
    j.status = parse_status(q.column_text(c++));
    j.reason = q.column_text(c++);
    j.attempts = static_cast<int>(q.column_int(c++));
    j.stem = q.column_text(c++);
    j.time_ms = q.column_int(c++);
    j.year = static_cast<int>(q.column_int(c++));
    j.valid_fraction = q.column_double(c++);
    j.provenance = q.column_text(c++);
    j.polish = q.column_text(c++);
    j.licence = q.column_text(c++);
    j.attribution = q.column_text(c++);
    for (const auto& field : caption_columns()) {
        auto text = q.column_text(c++);
        if (q.column_int(c++)) j.captions.push_back({field, std::move(text)});
    }
    return j;
}

} // namespace

StateDb::StateDb(const std::string& path, bool create)
    : db_(own_file(path), SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE)) {
    sqlite3_busy_timeout(db_.handle(), 10000);
    // WAL: `status` and the report read while a build writes (but for the plan's transaction:
    // begin_plan). A small page cache (2 MB: the
    // stages read and write a batch at a time; 8 MB filled only on builds of over ~3 K jobs,
    // so fetch's memory grew with the jobs) keeps the other stages' memory flat; the plan
    // stage's one big transaction gets 16 MB while it runs (begin_plan): 64 MB filled only on
    // plans of over ~50 K jobs, so the plan's peak memory grew with its jobs (1.10 at 10x, issue
    // 25), for no measured gain in time. Pages of 64 KB, SQLite's largest (a new DB's; its
    // default is 4 KB): a planned job's row is 2-4 KB, so a 4 KB page held one and wasted the
    // rest, and every page is a system call each way through the WAL and its checkpoint (dear on
    // this VM): the 64x plan's 232 K jobs take 666 MB (894 MB at 4 KB, 712 at 16 KB), the
    // bench's state DB floor 3.1-3.4 s against 5.0 at 16 KB, the plan ~10% less. A fetch batch
    // of 256 writes ~30% more WAL (a touched page is bigger: 3.7 against 2.8 MB with 200 K stems
    // set) in no more time (9-13 against 11-16 ms).
    // Tables but no jobs table: no build's (another program's database, or one edited by hand),
    // which the schema below had made one of, empty, and the split then listed nothing over
    // the dataset's files (red-team round 42); StateReader refuses it in the same words.
    if (db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table'").step() &&
        !db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").step())
        throw std::runtime_error(path + ": not a skyscript-build state DB (no jobs table)");
    db_.exec("PRAGMA page_size = 65536; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -2048;");
    { // in one transaction: a run killed between the tables had left a DB the check above refuses
        SqliteTransaction schema(db_);
        db_.exec(schema_sql);
        db_.exec(jobs_schema_sql());
        schema.commit();
    }
    db_.exec(retired_indexes_sql);
    add_missing_columns();
}

void StateDb::add_missing_columns() {
    // A build planned before a style was registered lacks its column; its jobs simply have no
    // such caption. One planned before fallbacks has jobs with none.
    std::vector<std::string> have;
    {
        auto q = db_.prepare("SELECT name FROM pragma_table_info('jobs')");
        while (q.step()) have.push_back(q.column_text(0));
    }
    const auto missing = [&](const std::string& c) { return std::find(have.begin(), have.end(), c) == have.end(); };
    for (const auto& [c, type] : later_columns)
        if (missing(c)) db_.exec(std::string("ALTER TABLE jobs ADD COLUMN ") + c + " " + type);
    for (const auto& c : caption_columns())
        if (missing(c)) db_.exec("ALTER TABLE jobs ADD COLUMN " + c + " TEXT");
}

std::map<std::string, std::string> StateDb::options() { return state_queries::options(db_); }

void StateDb::store_options(const std::map<std::string, std::string>& options) {
    SqliteTransaction transaction(db_);
    auto put = db_.prepare("INSERT OR REPLACE INTO options VALUES (?, ?)");
    for (const auto& [k, v] : options) {
        put.bind(1, k).bind(2, v);
        put.step();
        put.reset();
    }
    transaction.commit();
}

void StateDb::store_source_terms(const std::vector<imagery::SourceConfig>& sources) {
    std::map<std::string, std::pair<std::string, std::string>> terms;
    for (const auto& c : sources) terms[c.alias] = {c.licence, c.attribution};
    store_source_terms(terms);
}

void StateDb::store_source_terms(const std::map<std::string, std::pair<std::string, std::string>>& terms) {
    SqliteTransaction transaction(db_);
    db_.exec("DELETE FROM source_terms");
    auto q = db_.prepare("INSERT OR REPLACE INTO source_terms VALUES (?, ?, ?)");
    for (const auto& [alias, t] : terms) {
        q.bind(1, std::string_view(alias)).bind(2, std::string_view(t.first)).bind(3, std::string_view(t.second));
        q.step();
        q.reset();
    }
    transaction.commit();
}

std::map<std::string, std::pair<std::string, std::string>> StateDb::source_terms() {
    std::map<std::string, std::pair<std::string, std::string>> out;
    auto q = db_.prepare("SELECT alias, licence, attribution FROM source_terms");
    while (q.step()) out[std::string(q.column_text(0))] = {std::string(q.column_text(1)), std::string(q.column_text(2))};
    return out;
}

bool StateDb::has_source_terms() {
    auto q = db_.prepare("SELECT 1 FROM source_terms LIMIT 1");
    return q.step();
}

// The identity tables hold one row (one = 1): "" when none is recorded.
std::string StateDb::identity_in(const char* table) {
    auto q = db_.prepare(std::string("SELECT identity FROM ") + table);
    return q.step() ? q.column_text(0) : std::string();
}

void StateDb::store_identity_in(const char* table, const std::string& identity) {
    auto q = db_.prepare(std::string("INSERT OR REPLACE INTO ") + table + " VALUES (1, ?)");
    q.bind(1, identity);
    q.step();
}

std::string StateDb::sources_identity() { return identity_in("sources_identity"); }
void StateDb::store_sources_identity(const std::string& identity) { store_identity_in("sources_identity", identity); }
std::string StateDb::catalog_identity() { return identity_in("catalog_identity"); }
void StateDb::store_catalog_identity(const std::string& identity) { store_identity_in("catalog_identity", identity); }

bool StateDb::stage_finished(StageName stage) {
    auto q = db_.prepare("SELECT 1 FROM stages WHERE stage = ?");
    q.bind(1, stage.view());
    return q.step();
}

bool StateDb::any_stage_finished() { return db_.prepare("SELECT 1 FROM stages LIMIT 1").step(); }

void StateDb::finish_stage(StageName stage, double seconds, const std::string& summary_json) {
    auto q = db_.prepare("INSERT OR REPLACE INTO stages VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?, ?)");
    q.bind(1, stage.view()).bind(2, seconds).bind(3, summary_json);
    q.step();
}

void StateDb::unfinish_stage(StageName stage) { forget_stage(stage.view()); }

void StateDb::mark_polish_started() { db_.exec("INSERT OR REPLACE INTO polish_started VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ','now'))"); }

bool StateDb::polish_started() { return state_queries::polish_started(db_); }

std::optional<StateDb::StageRecord> StateDb::stage_record(StageName stage) {
    auto q = db_.prepare("SELECT finished_at, seconds, summary FROM stages WHERE stage = ?");
    q.bind(1, stage.view());
    if (!q.step()) return std::nullopt;
    return StageRecord{std::string(stage.view()), q.column_text(0), q.column_text(2), q.column_double(1)};
}

void StateDb::restore_stage(const StageRecord& record) {
    auto q = db_.prepare("INSERT OR REPLACE INTO stages VALUES (?, ?, ?, ?)");
    q.bind(1, record.stage).bind(2, record.finished_at).bind(3, record.seconds).bind(4, record.summary_json);
    q.step();
}

void StateDb::forget_stage(std::string_view stage) {
    auto q = db_.prepare("DELETE FROM stages WHERE stage = ?");
    q.bind(1, stage);
    q.step();
}

void StateDb::reset_stages_from(StageName stage) {
    // The stages whose work depends on this one's: it and every later stage up to write (split
    // and report are made again on every run anyway).
    for (const auto& s : stage_list) {
        const int rank = stage_rank(s.name);
        if (rank < stage.rank() || rank > stage_rank("write")) continue;
        forget_stage(s.name);
    }
}

// The plan's one transaction writes every job: through the WAL, each page is written twice
// (to the WAL, then by the checkpoint into the DB) and the WAL grows as large as the jobs
// (666 MB on bench-pipeline's 64x input). With a rollback journal, pages new to the file go
// straight into it and only the few pages the transaction changes are journaled: half the
// writes, no second copy on disk, the 64x plan 1.3-2.5 s sooner. The price: readers wait while
// the plan holds the file (StateReader says so), and the switch needs no other connection to be
// in a read, so with one reading the plan keeps the WAL. FULL: a rollback journal at NORMAL may
// leave a corrupt DB after a power cut at the wrong moment (sqlite.org/pragma.html#pragma_synchronous).
// The plan waits for readers up to two minutes (not ten seconds) while it holds the file: a
// reader that began before its first write to the file must end before it can go on writing,
// and a COMMIT that gave up would lose the whole plan.
void StateDb::begin_plan() {
    plan_rollback_ = set_journal_mode("delete");
    if (plan_rollback_) {
        db_.exec("PRAGMA synchronous = FULL");
        sqlite3_busy_timeout(db_.handle(), 120000);
    }
    db_.exec("PRAGMA cache_size = -16384; BEGIN IMMEDIATE; " + jobs_indexes_sql(false) + "DELETE FROM jobs; DELETE FROM skipped;");
    std::string columns, values;
    auto add = [&](const std::string& c) {
        columns += (columns.empty() ? "" : ", ") + c;
        values += (values.empty() ? ":" : ", :") + c;
    };
    for (const char* c : planned_columns) add(c);
    for (const auto& c : caption_columns()) add(c);
    insert_job_ = std::make_unique<SqliteStatement>(db_.handle(), "INSERT INTO jobs (" + columns + ") VALUES (" + values + ")", db_.path());
}

void StateDb::add_job(const Job& j) {
    step_with_planned_columns(*insert_job_, j);
}

void StateDb::step_with_planned_columns(SqliteStatement& q, const Job& j) {
    const std::string type(1, j.osm_type), kind(1, j.kind);
    const auto& g = j.grid;
    q.bind(":job_id", std::int64_t{j.job_id});
    q.bind(":fid", std::int64_t{j.fid});
    q.bind(":osm_type", std::string_view(type));
    q.bind(":osm_id", std::int64_t{j.osm_id});
    q.bind(":kind", std::string_view(kind));
    q.bind(":focus_tag", std::string_view(j.focus_tag));
    q.bind(":source", std::string_view(j.source));
    q.bind(":id_part", std::string_view(j.id_part));
    q.bind(":part", std::int64_t{j.part});
    q.bind(":epsg", std::int64_t{g.epsg});
    q.bind(":width", std::int64_t{g.width});
    q.bind(":height", std::int64_t{g.height});
    q.bind(":gsd", g.gsd);
    q.bind(":x0", g.geotransform[0]);
    q.bind(":y0", g.geotransform[3]);
    q.bind(":west", g.box.west);
    q.bind(":south", g.box.south);
    q.bind(":east", g.box.east);
    q.bind(":north", g.box.north);
    q.bind(":center_tags", std::string_view(j.center_tags));
    q.bind(":surrounding_tags", std::string_view(j.surrounding_tags));
    q.bind(":tile_key", std::string_view(j.tile_key));
    const auto fallbacks = fallbacks_text(j.fallbacks), tried = tried_sources_text(j.tried); // bound without a copy: alive until the step
    q.bind(":fallbacks", std::string_view(fallbacks));
    q.bind(":tried", std::string_view(tried));
    q.bind(":objects", std::string_view(j.objects));
    for (const auto& field : caption_columns()) bind_caption(q, j, field);
    q.step();
    q.reset();
}

void StateDb::end_plan(const std::map<std::string, std::int64_t>& skipped) {
    insert_job_.reset();
    auto skip = db_.prepare("INSERT INTO skipped VALUES (?, ?)");
    for (const auto& [reason, n] : skipped) {
        skip.bind(1, reason).bind(2, std::int64_t{n});
        skip.step();
        skip.reset();
    }
    db_.exec(jobs_indexes_sql(true));
    db_.exec("COMMIT; PRAGMA cache_size = -2048;");
    if (plan_rollback_) {
        plan_rollback_ = false;
        sqlite3_busy_timeout(db_.handle(), 10000);
        // Back to the WAL for the stages after (a reader now is waited for; should the switch
        // fail all the same, they work on in rollback mode, at FULL, and the next open sets the WAL).
        if (set_journal_mode("wal")) db_.exec("PRAGMA synchronous = NORMAL");
    }
}

bool StateDb::set_journal_mode(const std::string& mode) {
    try {
        auto q = db_.prepare("PRAGMA journal_mode = " + mode);
        return q.step() && q.column_text(0) == mode; // SQLite answers with the mode in effect
    } catch (const SqliteError& e) {
        if (e.primary_code() != SQLITE_BUSY) throw; // busy: another connection is reading
        return false;
    }
}

std::map<std::string, std::int64_t> StateDb::skipped() { return state_queries::skipped(db_); }

std::string StateDb::jobs_sql(bool of_source) {
    // A range of jobs_status_id in job order, read up to the limit: no sort. (A source's jobs
    // are picked from it as they come; `after` moves on, so a pass over one source's jobs reads
    // the others' once, not once a batch.)
    return std::string("SELECT ") + job_columns() + " FROM jobs WHERE status = :status" + (of_source ? " AND source = :source" : "") +
           " AND job_id > :after ORDER BY job_id LIMIT :limit";
}

std::vector<Job> StateDb::jobs(JobStatus status, const std::string& source, std::int64_t after, std::size_t limit) {
    auto q = db_.prepare(jobs_sql(!source.empty()));
    const std::string st(status_name(status));
    q.bind(":status", std::string_view(st)).bind(":after", std::int64_t{after});
    if (!source.empty()) q.bind(":source", std::string_view(source));
    q.bind(":limit", static_cast<std::int64_t>(limit));
    std::vector<Job> out;
    while (q.step()) out.push_back(read_job(q));
    return out;
}

std::vector<std::string> StateDb::job_sources(JobStatus status) {
    auto q = db_.prepare("SELECT DISTINCT source FROM jobs WHERE status = ? ORDER BY source");
    const std::string st(status_name(status));
    q.bind(1, st);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.column_text(0));
    return out;
}

std::int64_t StateDb::count_jobs(JobStatus status, const std::string& source) {
    auto q = db_.prepare("SELECT count(*) FROM jobs WHERE status = ? AND source = ?");
    const std::string st(status_name(status));
    q.bind(1, st);
    q.bind(2, source);
    return q.step() ? q.column_int(0) : 0;
}

std::map<std::string, std::int64_t> StateDb::count_by_status() { return state_queries::count_by_status(db_); }

std::int64_t StateDb::failed_for_want_of_imagery() {
    // The reasons source_fallback.cpp gives: every source of the policy's order said no, or
    // --source-policy all's one source did.
    auto q = db_.prepare("SELECT count(*) FROM jobs WHERE status = 'failed' AND (reason LIKE 'no eligible source has imagery here (%' OR "
                         "reason LIKE 'source % has no imagery here (%')");
    return q.step() ? q.column_int(0) : 0;
}

void StateDb::record_fetched(const std::vector<FetchResult>& results, const std::vector<Job>& moved) {
    SqliteTransaction transaction(db_); // a failed record leaves no transaction open: the fetch records again
    if (!moved.empty()) {
        // A job moved to its next source: every planned column again (source, grid, tags,
        // captions, fallbacks, tried), still planned.
        std::string set;
        for (const char* c : planned_columns)
            if (std::string_view(c) != "job_id") set.append(set.empty() ? "" : ", ").append(c).append(" = :").append(c);
        for (const auto& c : caption_columns()) set += ", " + c + " = :" + c;
        auto update = db_.prepare("UPDATE jobs SET " + set + ", attempts = attempts + 1, reason = NULL WHERE job_id = :job_id");
        for (const auto& j : moved) step_with_planned_columns(update, j);
    }
    auto ok = db_.prepare(
        "UPDATE jobs SET status = 'fetched', reason = NULL, attempts = attempts + 1, stem = :stem, time_ms = :time_ms, year = :year, "
        "valid_fraction = :valid_fraction, reused = :reused, provenance = :provenance, image_bytes = :image_bytes WHERE job_id = :job_id");
    auto bad = db_.prepare(
        "UPDATE jobs SET status = 'failed', reason = :reason, attempts = attempts + 1, valid_fraction = :valid_fraction, tried = :tried "
        "WHERE job_id = :job_id");
    for (const auto& r : results) {
        if (r.ok) {
            ok.bind(":job_id", std::int64_t{r.job_id}).bind(":stem", std::string_view(r.stem)).bind(":time_ms", static_cast<std::int64_t>(r.time_ms));
            ok.bind(":year", std::int64_t{r.year}).bind(":valid_fraction", r.valid_fraction).bind(":reused", std::int64_t{r.reused ? 1 : 0});
            if (r.image_bytes < 0) ok.bind_null(":image_bytes");
            else ok.bind(":image_bytes", r.image_bytes);
            if (r.provenance.empty()) ok.bind_null(":provenance");
            else ok.bind(":provenance", std::string_view(r.provenance));
            ok.step();
            ok.reset();
        } else {
            bad.bind(":job_id", std::int64_t{r.job_id}).bind(":reason", std::string_view(r.reason)).bind(":valid_fraction", r.valid_fraction);
            const auto tried = tried_sources_text(r.tried);
            bad.bind(":tried", std::string_view(tried));
            bad.step();
            bad.reset();
        }
    }
    transaction.commit();
}

namespace {

// Each job's meta file's size set by `sql` (its parameters: the size, the job id), in one transaction.
void set_meta_bytes(SqliteDb& db, const char* sql, const std::vector<std::int64_t>& job_ids, const std::vector<std::int64_t>& meta_bytes) {
    SqliteTransaction transaction(db);
    auto q = db.prepare(sql);
    for (std::size_t i = 0; i < job_ids.size(); ++i) {
        q.bind(1, meta_bytes.at(i)).bind(2, job_ids[i]);
        q.step();
        q.reset();
    }
    transaction.commit();
}

} // namespace

void StateDb::record_written(const std::vector<std::int64_t>& job_ids, const std::vector<std::int64_t>& meta_bytes) {
    set_meta_bytes(db_, "UPDATE jobs SET status = 'written', meta_bytes = ? WHERE job_id = ?", job_ids, meta_bytes);
}

void StateDb::meta_files_due() { db_.exec("UPDATE jobs SET meta_bytes = 0 WHERE status = 'written'"); }

void StateDb::record_meta_bytes(const std::vector<Job>& jobs, const std::vector<std::int64_t>& meta_bytes) {
    std::vector<std::int64_t> job_ids;
    for (const auto& job : jobs) job_ids.push_back(job.job_id);
    set_meta_bytes(db_, "UPDATE jobs SET meta_bytes = ? WHERE job_id = ?", job_ids, meta_bytes);
}

void StateDb::record_polished(const std::vector<Job>& jobs) {
    // meta_bytes 0 matches no file: killed before the pickles are made again, a resume writes them.
    std::string set = "polish = :polish, meta_bytes = 0";
    for (const auto field : captions::polished_caption_fields()) set.append(", ").append(field).append(" = :").append(field);
    SqliteTransaction transaction(db_);
    auto q = db_.prepare("UPDATE jobs SET " + set + " WHERE job_id = :job_id");
    for (const auto& j : jobs) {
        q.bind(":job_id", std::int64_t{j.job_id});
        if (j.polish.empty()) q.bind_null(":polish");
        else q.bind(":polish", std::string_view(j.polish));
        for (const auto field : captions::polished_caption_fields()) bind_caption(q, j, field);
        q.step();
        q.reset();
    }
    transaction.commit();
}

std::int64_t StateDb::retry_failed() {
    db_.exec("UPDATE jobs SET status = 'planned' WHERE status = 'failed'");
    return sqlite3_changes(db_.handle());
}

std::string StateDb::names_written_sql() {
    return "SELECT 1 FROM jobs INDEXED BY jobs_stem WHERE stem = ? AND part = ? AND status = 'written' LIMIT 1";
}

bool StateDb::names_written(int part, std::string_view stem) {
    // INDEXED BY: without statistics SQLite may take the status index (every written job a
    // lookup: a 3,321-job write went 0.9 -> 10 s when it did); the constructor makes jobs_stem.
    if (!names_written_) names_written_ = std::make_unique<SqliteStatement>(db_.handle(), names_written_sql(), db_.path());
    auto& q = *names_written_;
    q.bind(1, stem).bind(2, std::int64_t{part});
    const bool found = q.step();
    q.reset();
    return found;
}

void StateDb::for_each_with_files(const std::function<void(const JobFiles&)>& fn) { state_queries::for_each_with_files(db_, fn); }

void StateDb::set_status(const std::vector<std::int64_t>& job_ids, JobStatus status) {
    SqliteTransaction transaction(db_);
    auto q = db_.prepare("UPDATE jobs SET status = :status, reason = NULL WHERE job_id = :job_id");
    const std::string st(status_name(status));
    for (auto id : job_ids) {
        q.bind(":job_id", std::int64_t{id}).bind(":status", std::string_view(st));
        q.step();
        q.reset();
    }
    transaction.commit();
}

void StateDb::for_each_written(const std::function<void(const Job&)>& fn) {
    auto q = db_.prepare(std::string("SELECT ") + job_columns() + " FROM jobs WHERE status = 'written' ORDER BY job_id");
    while (q.step()) fn(read_job(q));
}

} // namespace skyscript::pipeline
