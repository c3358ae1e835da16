#pragma once
// A thin RAII layer over the SQLite C API: errors become exceptions naming the file.

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

class SqliteError : public std::runtime_error {
public:
    // `code`: SQLite's extended result code (0 when the error is not SQLite's own).
    explicit SqliteError(const std::string& what, int code = 0) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }
    int primary_code() const noexcept { return code_ & 0xff; }

private:
    int code_;
};

class SqliteStatement {
public:
    SqliteStatement(sqlite3* db, std::string_view sql, const std::string& path);
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& bind(int i, std::int64_t v);
    SqliteStatement& bind(int i, double v);
    SqliteStatement& bind(int i, std::string_view text);
    SqliteStatement& bind_blob(int i, const void* data, std::size_t size);
    SqliteStatement& bind_null(int i);
    // By name (":job_id"): the parameter's index; throws naming it when the SQL has no such parameter.
    // Remembered by the name's address (and checked against its text): SQLite looks a name up
    // by comparing it with each parameter's, and the plan binds 31 by name a job.
    int parameter(const char* name) const;
    template <class T>
    SqliteStatement& bind(const char* name, const T& v) { return bind(parameter(name), v); }
    SqliteStatement& bind_null(const char* name) { return bind_null(parameter(name)); }
    bool step(); // true while a row is available
    void reset();
    std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
    double column_double(int i) const { return sqlite3_column_double(stmt_, i); }
    std::string column_text(int i) const;
    std::string_view column_text_view(int i) const; // valid until the next step or reset
    std::string_view column_blob(int i) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    const std::string& path_;
    struct Named {
        const char* address;
        std::string name;
        int index;
    };
    mutable std::vector<Named> named_;
};

class SqliteDb {
public:
    explicit SqliteDb(std::string path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ~SqliteDb();
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    void exec(std::string_view sql);
    SqliteStatement prepare(std::string_view sql) { return SqliteStatement(db_, sql, path_); }
    sqlite3* handle() const noexcept { return db_; }
    const std::string& path() const noexcept { return path_; }
    void close();

private:
    std::string path_;
    sqlite3* db_ = nullptr;
};

// A write transaction (BEGIN IMMEDIATE) rolled back unless committed: a statement that throws
// in it leaves no transaction open on the connection, so a later one (a retry) can begin.
class SqliteTransaction {
public:
    explicit SqliteTransaction(SqliteDb& db);
    ~SqliteTransaction();
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    void commit();

private:
    SqliteDb& db_;
    bool open_ = true;
};

[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& path, int rc);

} // namespace skyscript::pipeline
