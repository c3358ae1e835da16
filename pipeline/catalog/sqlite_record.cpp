#include "pipeline/catalog/sqlite_record.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace skyscript::pipeline {

std::size_t sqlite_varint_size(std::uint64_t v) {
    if (v > 0x00ffffffffffffffULL) return 9;
    std::size_t n = 1;
    while (v >>= 7) ++n;
    return n;
}

std::size_t put_sqlite_varint(unsigned char* p, std::uint64_t v) {
    if (v > 0x00ffffffffffffffULL) { // nine bytes: eight of 7 bits, then a whole one
        p[8] = static_cast<unsigned char>(v);
        v >>= 8;
        for (int i = 7; i >= 0; --i, v >>= 7) p[i] = static_cast<unsigned char>((v & 0x7f) | 0x80);
        return 9;
    }
    const std::size_t n = sqlite_varint_size(v);
    for (std::size_t i = n; i-- > 0; v >>= 7) p[i] = static_cast<unsigned char>((v & 0x7f) | (i + 1 < n ? 0x80 : 0));
    return n;
}

namespace {

// The serial type of an integer and its size in bytes (8 and 9: the constants 0 and 1, no bytes).
std::uint64_t integer_type(std::int64_t v, std::size_t& bytes) {
    if (v == 0 || v == 1) {
        bytes = 0;
        return v == 0 ? 8 : 9;
    }
    const std::uint64_t u = v < 0 ? ~static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    if (u <= 0x7f) return bytes = 1, 1;
    if (u <= 0x7fff) return bytes = 2, 2;
    if (u <= 0x7fffff) return bytes = 3, 3;
    if (u <= 0x7fffffff) return bytes = 4, 4;
    if (u <= 0x7fffffffffffULL) return bytes = 6, 5;
    return bytes = 8, 6;
}

// A REAL column's value as SQLite stores it (vdbe.c: applyAffinity, then OP_MakeRecord): an
// integral value as an integer of 6 bytes or fewer, else 8 bytes of IEEE double.
bool real_as_integer(double r, std::int64_t& i) {
    if (!(r > -9223372036854775808.0 && r < 9223372036854775808.0)) return false; // NaN and out of range too
    i = static_cast<std::int64_t>(r);
    if (static_cast<double>(i) != r || i == INT64_MIN || i == INT64_MAX) return false;
    const std::uint64_t u = i < 0 ? ~static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
    return u <= 0x7fffffffffffULL;
}

bool stored_as_null(const SqliteValue& v) {
    // As sqlite3_bind_double: a NaN is stored as NULL.
    return v.type == SqliteValue::Type::null || (v.type == SqliteValue::Type::real && std::isnan(v.real));
}

std::uint64_t serial_type(const SqliteValue& v, std::size_t& bytes) {
    if (stored_as_null(v)) return bytes = 0, 0;
    switch (v.type) {
        case SqliteValue::Type::integer: return integer_type(v.integer, bytes);
        case SqliteValue::Type::real: {
            std::int64_t i = 0;
            if (real_as_integer(v.real, i)) return integer_type(i, bytes);
            return bytes = 8, 7;
        }
        case SqliteValue::Type::text: bytes = v.head.size() + v.tail.size(); return 13 + 2 * static_cast<std::uint64_t>(bytes);
        case SqliteValue::Type::blob: bytes = v.head.size() + v.tail.size(); return 12 + 2 * static_cast<std::uint64_t>(bytes);
        case SqliteValue::Type::null: break;
    }
    return bytes = 0, 0;
}

void put_big_endian(unsigned char* p, std::uint64_t v, std::size_t bytes) {
    for (std::size_t i = bytes; i-- > 0; v >>= 8) p[i] = static_cast<unsigned char>(v);
}

} // namespace

void append_sqlite_record(std::string& out, std::span<const SqliteValue> values) {
    std::size_t types_size = 0, body_size = 0;
    for (const auto& v : values) {
        std::size_t bytes = 0;
        types_size += sqlite_varint_size(serial_type(v, bytes));
        body_size += bytes;
    }
    // The header's size counts its own varint.
    std::size_t header_size = types_size + 1;
    while (sqlite_varint_size(header_size) + types_size != header_size) header_size = sqlite_varint_size(header_size) + types_size;
    const std::size_t start = out.size();
    out.resize(start + header_size + body_size);
    auto* p = reinterpret_cast<unsigned char*>(out.data()) + start;
    auto* body = p + header_size;
    p += put_sqlite_varint(p, header_size);
    for (const auto& v : values) {
        std::size_t bytes = 0;
        p += put_sqlite_varint(p, serial_type(v, bytes));
        if (stored_as_null(v)) continue;
        switch (v.type) {
            case SqliteValue::Type::integer: put_big_endian(body, static_cast<std::uint64_t>(v.integer), bytes); break;
            case SqliteValue::Type::real: {
                std::int64_t i = 0;
                if (real_as_integer(v.real, i)) put_big_endian(body, static_cast<std::uint64_t>(i), bytes);
                else put_big_endian(body, std::bit_cast<std::uint64_t>(v.real), 8);
                break;
            }
            case SqliteValue::Type::text:
            case SqliteValue::Type::blob:
                if (!v.head.empty()) std::memcpy(body, v.head.data(), v.head.size());
                if (!v.tail.empty()) std::memcpy(body + v.head.size(), v.tail.data(), v.tail.size());
                break;
            case SqliteValue::Type::null: break;
        }
        body += bytes;
    }
}

} // namespace skyscript::pipeline
