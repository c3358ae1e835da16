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

} // namespace skyscript::pipeline::state_queries
