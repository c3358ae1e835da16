#include "pipeline/state/state_queries.hpp"

namespace skyscript::pipeline::state_queries {

std::map<std::string, std::int64_t> text_counts(SqliteDb& db, const char* sql) {
    std::map<std::string, std::int64_t> out;
    auto q = db.prepare(sql);
    while (q.step()) out[q.column_text(0)] = q.column_int(1);
    return out;
}

std::map<std::string, std::int64_t> count_by_status(SqliteDb& db) {
    std::map<std::string, std::int64_t> out{{"planned", 0}, {"fetched", 0}, {"written", 0}, {"failed", 0}};
    for (const auto& [status, n] : text_counts(db, "SELECT status, count(*) FROM jobs GROUP BY status")) out[status] = n;
    return out;
}

std::map<std::string, std::int64_t> skipped(SqliteDb& db) { return text_counts(db, "SELECT reason, objects FROM skipped"); }

std::map<std::string, std::string> options(SqliteDb& db) {
    std::map<std::string, std::string> out;
    auto q = db.prepare("SELECT key, value FROM options");
    while (q.step()) out[q.column_text(0)] = q.column_text(1);
    return out;
}

bool has_jobs_column(SqliteDb& db, const char* name) {
    auto q = db.prepare("SELECT count(*) FROM pragma_table_info('jobs') WHERE name = ?");
    q.bind(1, std::string_view(name));
    return q.step() && q.column_int(0) > 0;
}

bool polish_started(SqliteDb& db) {
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'polish_started'").step() &&
           db.prepare("SELECT 1 FROM polish_started").step();
}

void for_each_with_files(SqliteDb& db, const std::function<void(const JobFiles&)>& fn) {
    // In index order (the fetched jobs, then the written ones, each in job order): an ORDER BY
    // job_id sorted every finished job in memory or temp files first.
    const auto bytes = [&](const char* column) { return has_jobs_column(db, column) ? "coalesce(" + std::string(column) + ", -1)" : std::string("-1"); };
    auto q = db.prepare("SELECT job_id, status, part, stem, " + bytes("image_bytes") + ", " + bytes("meta_bytes") +
                        " FROM jobs WHERE status IN ('fetched', 'written')");
    JobFiles f;
    while (q.step()) {
        f.job_id = q.column_int(0);
        f.status = parse_status(q.column_text(1));
        f.part = static_cast<int>(q.column_int(2));
        f.stem = q.column_text(3);
        f.image_bytes = q.column_int(4);
        f.meta_bytes = q.column_int(5);
        fn(f);
    }
}

} // namespace skyscript::pipeline::state_queries
