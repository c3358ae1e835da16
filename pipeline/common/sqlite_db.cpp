#include "pipeline/common/sqlite_db.hpp"


#include <cerrno>
#include <cstring>
#include <filesystem>

namespace skyscript::pipeline {

namespace {

// SQLite says "unable to open database file" whatever the cause: the system's own word, when
// it has one (Too many open files, Permission denied), says which. "" when it has none.
std::string system_word(sqlite3* db) {
    const int err = db ? sqlite3_system_errno(db) : 0;
    return err ? ": " + std::string(std::strerror(err)) : std::string();
}

} // namespace

void throw_sqlite(sqlite3* db, const std::string& path, int rc) {
    std::string what = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    // A journal or WAL write that meets a full disk comes back as SQLITE_IOERR: the OS says why.
    const bool no_space = (rc & 0xff) == SQLITE_FULL || (db && (rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC);
    if (no_space) what = "no space left on device (" + what + ")";
    else if ((rc & 0xff) == SQLITE_CANTOPEN) what += system_word(db); // its WAL, its shared memory
    throw SqliteError(path + ": " + what, db ? sqlite3_extended_errcode(db) : rc);
}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql, const std::string& path) : db_(db), path_(path) {
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db, path, rc);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

int SqliteStatement::parameter(const char* name) const {
    for (const auto& n : named_)
        if (n.address == name && n.name == name) return n.index;
    const int i = sqlite3_bind_parameter_index(stmt_, name);
    if (i == 0) throw SqliteError(path_ + ": no SQL parameter " + name + " in " + sqlite3_sql(stmt_));
    if (named_.size() < 64) named_.push_back({name, name, i}); // a name at another address (a string rebuilt) is looked up again
    return i;
}

SqliteStatement& SqliteStatement::bind(int i, std::int64_t v) {
    if (int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) throw_sqlite(db_, path_, rc);
    return *this;
}
SqliteStatement& SqliteStatement::bind(int i, double v) {
    if (int rc = sqlite3_bind_double(stmt_, i, v); rc != SQLITE_OK) throw_sqlite(db_, path_, rc);
    return *this;
}
SqliteStatement& SqliteStatement::bind(int i, std::string_view text) {
    if (int rc = sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC); rc != SQLITE_OK)
        throw_sqlite(db_, path_, rc);
    return *this;
}
SqliteStatement& SqliteStatement::bind_blob(int i, const void* data, std::size_t size) {
    if (int rc = sqlite3_bind_blob(stmt_, i, data, static_cast<int>(size), SQLITE_STATIC); rc != SQLITE_OK)
        throw_sqlite(db_, path_, rc);
    return *this;
}
SqliteStatement& SqliteStatement::bind_null(int i) {
    if (int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) throw_sqlite(db_, path_, rc);
    return *this;
}

bool SqliteStatement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(db_, path_, rc);
}

void SqliteStatement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::string SqliteStatement::column_text(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string{};
}

std::string_view SqliteStatement::column_text_view(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string_view{};
}

std::string_view SqliteStatement::column_blob(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))};
}

namespace {

// The name SQLite is given for the plain file `path` (messages keep `path` as given):
// - a name starting with "file:" is a URI to this SQLite (Debian's is built with
//   SQLITE_USE_URI): `-o file:x` opened ./x/state.sqlite, another build's; "./" goes in front;
// - with SQLITE_OPEN_NOFOLLOW SQLite refuses a link anywhere in the name, not only the file
//   (an OUT under a linked /home could not be opened): the folder's links are resolved first.
std::string name_for_sqlite(const std::string& path, int flags) {
    if (flags & SQLITE_OPEN_URI) return path; // a URI made on purpose
    std::string name = path;
    if (flags & SQLITE_OPEN_NOFOLLOW) {
        std::error_code ec;
        const std::filesystem::path p(path);
        const auto dir = std::filesystem::canonical(p.has_parent_path() ? p.parent_path() : std::filesystem::path("."), ec);
        if (!ec) name = (dir / p.filename()).string();
    }
    return name.starts_with("file:") ? "./" + name : name;
}

} // namespace

SqliteDb::SqliteDb(std::string path, int flags) : path_(std::move(path)) {
    const auto name = name_for_sqlite(path_, flags);
    const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string what = (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)) + system_word(db_);
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError(path_ + ": cannot open (" + what + ")");
    }
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

void SqliteDb::exec(std::string_view sql) {
    const std::string s(sql);
    if (int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) throw_sqlite(db_, path_, rc);
}

void SqliteDb::close() {
    if (!db_) return;
    if (int rc = sqlite3_close(db_); rc != SQLITE_OK) throw_sqlite(db_, path_, rc);
    db_ = nullptr;
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

SqliteTransaction::~SqliteTransaction() {
    if (open_ && !sqlite3_get_autocommit(db_.handle())) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
    db_.exec("COMMIT");
    open_ = false;
}

} // namespace skyscript::pipeline
