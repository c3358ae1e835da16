#include "pickle_writer.hpp"

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
        case nlohmann::json::value_t::string: {
            const auto& s = v.get_ref<const std::string&>();
            out.push_back(BINUNICODE);
            put_u32(out, static_cast<std::uint32_t>(s.size()));
            out += s;
            break;
        }
        case nlohmann::json::value_t::number_integer: put_int(out, v.get<std::int64_t>()); break;
        case nlohmann::json::value_t::number_unsigned: put_int(out, static_cast<std::int64_t>(v.get<std::uint64_t>())); break;
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
