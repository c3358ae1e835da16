#include "pipeline/polish/answer_cache.hpp"

#include "pipeline/common/build_dir.hpp"

namespace skyscript::pipeline {

AnswerCache::AnswerCache(const std::string& path, bool read_only)
    : db_(own_file(path), SQLITE_OPEN_NOFOLLOW | (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) {
    sqlite3_busy_timeout(db_.handle(), 10000);
    if (read_only) return;
    db_.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    db_.exec("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY NOT NULL, model TEXT NOT NULL, prompt_hash TEXT NOT NULL, "
             "input TEXT NOT NULL, answer TEXT NOT NULL, kept INTEGER NOT NULL, reason TEXT NOT NULL, asks INTEGER NOT NULL, "
             "tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, answered_at TEXT NOT NULL)");
}

std::optional<CachedAnswer> AnswerCache::find(const std::string& key) {
    auto q = db_.prepare("SELECT model, prompt_hash, input, answer, kept, reason, asks, tokens_in, tokens_out FROM answers WHERE key = ?");
    q.bind(1, std::string_view(key));
    if (!q.step()) return std::nullopt;
    CachedAnswer a;
    a.key = key;
    a.model = q.column_text(0);
    a.prompt_hash = q.column_text(1);
    a.input = q.column_text(2);
    a.answer = q.column_text(3);
    a.kept = q.column_int(4) != 0;
    a.reason = q.column_text(5);
    a.asks = static_cast<int>(q.column_int(6));
    a.tokens_in = q.column_int(7);
    a.tokens_out = q.column_int(8);
    return a;
}

void AnswerCache::put(const CachedAnswer& a) {
    auto q = db_.prepare("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))");
    q.bind(1, std::string_view(a.key)).bind(2, std::string_view(a.model)).bind(3, std::string_view(a.prompt_hash));
    q.bind(4, std::string_view(a.input)).bind(5, std::string_view(a.answer)).bind(6, std::int64_t{a.kept ? 1 : 0});
    q.bind(7, std::string_view(a.reason)).bind(8, std::int64_t{a.asks}).bind(9, a.tokens_in).bind(10, a.tokens_out);
    q.step();
}

std::int64_t AnswerCache::size() {
    auto q = db_.prepare("SELECT count(*) FROM answers");
    return q.step() ? q.column_int(0) : 0;
}

} // namespace skyscript::pipeline
