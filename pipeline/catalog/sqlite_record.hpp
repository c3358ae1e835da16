#pragma once
// A row in SQLite's record format (sqlite.org/fileformat2.html, "Record Format"): a header
// of serial types, then the values. Made on the extract's workers, so the single thread that
// puts the catalog's rows in the file only copies them into pages (table_appender.hpp).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace skyscript::pipeline {

struct SqliteValue {
    enum class Type { null, integer, real, text, blob } type = Type::null;
    std::int64_t integer = 0;
    double real = 0;
    // text or blob: `head` then `tail` (a blob made of two pieces is written without joining them first)
    std::string_view head, tail;

    static SqliteValue null_value() { return {}; }
    static SqliteValue int_value(std::int64_t v) { return {Type::integer, v, 0, {}, {}}; }
    // For a REAL column: stored as SQLite stores it there (an integral value as an integer, NaN as NULL).
    static SqliteValue real_value(double v) { return {Type::real, 0, v, {}, {}}; }
    static SqliteValue text_value(std::string_view s) { return {Type::text, 0, 0, s, {}}; }
    static SqliteValue blob_value(std::string_view head, std::string_view tail = {}) { return {Type::blob, 0, 0, head, tail}; }
};

// Appends the record of `values` (in the table's column order; an INTEGER PRIMARY KEY column
// is given as null: its value is the rowid, kept outside the record) to `out`.
void append_sqlite_record(std::string& out, std::span<const SqliteValue> values);

// SQLite's variable-length integer (1 to 9 bytes, big-endian groups of 7 bits, the ninth byte whole).
std::size_t sqlite_varint_size(std::uint64_t v);
std::size_t put_sqlite_varint(unsigned char* p, std::uint64_t v); // returns its size

} // namespace skyscript::pipeline
