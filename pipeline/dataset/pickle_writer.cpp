#include "pipeline/dataset/pickle_writer.hpp"


#include <bit>
#include <cstdint>
#include <cstring>

namespace skyscript::pipeline {

namespace {

// Opcodes (Lib/pickletools.py).
constexpr char PROTO = '\x80', STOP = '.', MARK = '(', EMPTY_DICT = '}', SETITEMS = 'u', EMPTY_LIST = ']', APPENDS = 'e',
               TUPLE = 't', EMPTY_TUPLE = ')', BINUNICODE = 'X', BININT = 'J', BININT1 = 'K', LONG1 = '\x8a', BINFLOAT = 'G',
               NEWTRUE = '\x88', NEWFALSE = '\x89', NONE = 'N';

void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_int(std::string& out, std::int64_t v) {
    if (v >= 0 && v < 256) {
        out.push_back(BININT1);
        out.push_back(static_cast<char>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        out.push_back(BININT);
        put_u32(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
    } else { // LONG1: little-endian two's complement, as few bytes as keep the sign
        std::string bytes;
        std::uint64_t u = static_cast<std::uint64_t>(v);
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
        while (bytes.size() > 1) {
            const auto last = static_cast<unsigned char>(bytes.back()), prev = static_cast<unsigned char>(bytes[bytes.size() - 2]);
            if ((last == 0 && !(prev & 0x80)) || (last == 0xff && (prev & 0x80))) bytes.pop_back();
            else break;
        }
        out.push_back(LONG1);
        out.push_back(static_cast<char>(bytes.size()));
        out += bytes;
    }
}

// Unsigned values above INT64_MAX: LONG1 of the 8 bytes and a zero byte that keeps it positive.
void put_uint(std::string& out, std::uint64_t v) {
    if (v <= static_cast<std::uint64_t>(INT64_MAX)) return put_int(out, static_cast<std::int64_t>(v));
    out.push_back(LONG1);
    out.push_back(9);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    out.push_back(0);
}

// Python reads BINUNICODE as UTF-8 and refuses the whole file on one ill-formed byte, so
// each maximal ill-formed subpart becomes U+FFFD (Unicode section 3.9, as Python's own
// errors="replace" does): the value survives, the file loads.
void put_string(std::string& out, const std::string& s) {
    std::string fixed;
    const std::string* text = &s;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (text != &s) fixed.push_back(s[i]);
            ++i;
            continue;
        }
        // Sequence length and the range of its second byte (no overlongs, surrogates or > U+10FFFF).
        std::size_t len = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        std::size_t good = len ? 1 : 0; // bytes of the sequence that are well formed so far
        while (good && good < len && i + good < s.size()) {
            const auto b = static_cast<unsigned char>(s[i + good]);
            if (b < (good == 1 ? lo : 0x80) || b > (good == 1 ? hi : 0xBF)) break;
            ++good;
        }
        if (len && good == len) {
            if (text != &s) fixed.append(s, i, len);
            i += len;
            continue;
        }
        if (text == &s) fixed.assign(s, 0, i), text = &fixed; // first ill-formed byte: copy from here on
        fixed += "\xEF\xBF\xBD";
        i += good ? good : 1;
    }
    out.push_back(BINUNICODE);
    put_u32(out, static_cast<std::uint32_t>(text->size()));
    out += *text;
}

void put_float(std::string& out, double d) {
    std::uint64_t u;
    std::memcpy(&u, &d, 8);
    out.push_back(BINFLOAT);
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff)); // big endian
}

void put_value(std::string& out, const nlohmann::ordered_json& v, bool as_tuple, const std::set<std::string>* tuple_keys) {
    switch (v.type()) {
        case nlohmann::json::value_t::object:
            out.push_back(EMPTY_DICT);
            if (v.empty()) break;
            out.push_back(MARK);
            for (const auto& [k, item] : v.items()) {
                put_value(out, k, false, nullptr);
                put_value(out, item, tuple_keys && tuple_keys->count(k), nullptr);
            }
            out.push_back(SETITEMS);
            break;
        case nlohmann::json::value_t::array:
            if (as_tuple) {
                if (v.empty()) {
                    out.push_back(EMPTY_TUPLE);
                    break;
                }
                out.push_back(MARK);
                for (const auto& item : v) put_value(out, item, false, nullptr);
                out.push_back(TUPLE);
            } else {
                out.push_back(EMPTY_LIST);
                if (v.empty()) break;
                out.push_back(MARK);
                for (const auto& item : v) put_value(out, item, false, nullptr);
                out.push_back(APPENDS);
            }
            break;
        case nlohmann::json::value_t::string: put_string(out, v.get_ref<const std::string&>()); break;
        case nlohmann::json::value_t::number_integer: put_int(out, v.get<std::int64_t>()); break;
        case nlohmann::json::value_t::number_unsigned: put_uint(out, v.get<std::uint64_t>()); break;
        case nlohmann::json::value_t::number_float: put_float(out, v.get<double>()); break;
        case nlohmann::json::value_t::boolean: out.push_back(v.get<bool>() ? NEWTRUE : NEWFALSE); break;
        default: out.push_back(NONE); break;
    }
}

} // namespace

std::string to_pickle(const nlohmann::ordered_json& value, const std::set<std::string>& tuple_keys) {
    std::string out{PROTO, '\x02'};
    put_value(out, value, false, &tuple_keys);
    out.push_back(STOP);
    return out;
}

} // namespace skyscript::pipeline
