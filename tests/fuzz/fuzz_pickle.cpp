// Fuzz target: the pickle writer (pipeline/dataset/pickle_writer.*) on records built from
// the fuzz input: a dict like a SkyScript meta record (`box`, `time`, `transform` written as
// tuples) holding nested values of every JSON type, strings of any bytes, integers over the
// whole int64/uint64 ranges, any double (NaN, inf, -0.0).
//
// In process, tests/fuzz/pickle_reader.* decodes each pickle and it must equal the record:
// same types (tuple where asked), same order, integers and float bits exact, strings equal,
// or, when not valid UTF-8, with each ill-formed part replaced by U+FFFD as Python does.
// python3 cannot run per input; with SKYSCRIPT_PICKLE_DUMP=DIR set, each input's pickle
// and expected value (expected.json, strings as their raw bytes in hex) are written there,
// and check_pickles.py loads them all with python3's pickle (the ctest fuzz_pickle_python).

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "pickle_reader.hpp"
#include "pipeline/dataset/pickle_writer.hpp"
#include "utf8_check.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

using json = nlohmann::ordered_json;
using skyscript::fuzz::ByteReader;
using skyscript::fuzz::PickleValue;
using Kind = PickleValue::Kind;

namespace {

const std::set<std::string> tuple_keys{"box", "time", "transform"};
constexpr const char* known_keys[] = {"box", "time", "center_tags", "surrounding_tags", "osm_type", "osm_id", "source",
                                      "gsd_m", "size_px", "focus_tag", "crs", "transform", "time_known", "valid_fraction"};

std::uint64_t u64(ByteReader& in) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | in.byte();
    return v;
}

json value(ByteReader& in, int depth) {
    switch (in.byte() % 11) {
        case 0: return nullptr;
        case 1: return (in.byte() & 1) != 0;
        case 2: return static_cast<std::int64_t>(u64(in));
        case 3: return static_cast<std::int64_t>(static_cast<std::int8_t>(in.byte())) * 1000 + in.byte(); // near the opcode bounds
        case 4: return u64(in);                                              // number_unsigned
        case 5: {
            const std::uint64_t bits = u64(in);
            double d;
            std::memcpy(&d, &bits, 8);
            return d;
        }
        case 6: return static_cast<std::int64_t>(static_cast<std::int32_t>(u64(in) >> 32));
        case 7:
        case 8: return in.string(64);
        case 9: {
            json a = json::array();
            const int n = depth < 6 ? in.byte() % 6 : 0;
            for (int i = 0; i < n && !in.empty(); ++i) a.push_back(value(in, depth + 1));
            return a;
        }
        default: {
            json o = json::object();
            const int n = depth < 6 ? in.byte() % 6 : 0;
            for (int i = 0; i < n && !in.empty(); ++i) {
                auto k = in.string(32);
                o[k] = value(in, depth + 1);
            }
            return o;
        }
    }
}

// What a correct pickle of `v` decodes to.
PickleValue expected(const json& v, bool as_tuple, bool top) {
    PickleValue p;
    switch (v.type()) {
        case json::value_t::null: break;
        case json::value_t::boolean: p.kind = Kind::boolean, p.boolean = v.get<bool>(); break;
        case json::value_t::number_integer: p.kind = Kind::integer, p.integer = v.get<std::int64_t>(); break;
        case json::value_t::number_unsigned: p.kind = Kind::integer, p.integer = v.get<std::uint64_t>(); break;
        case json::value_t::number_float: {
            p.kind = Kind::floating;
            const double d = v.get<double>();
            std::memcpy(&p.float_bits, &d, 8);
            break;
        }
        case json::value_t::string:
            p.kind = Kind::string, p.string = skyscript::fuzz::python_utf8_replace(v.get_ref<const std::string&>());
            break;
        case json::value_t::array:
            p.kind = as_tuple ? Kind::tuple : Kind::list;
            for (const auto& i : v) p.items.push_back(expected(i, false, false));
            break;
        case json::value_t::object:
            p.kind = Kind::dict;
            for (const auto& [k, i] : v.items())
                p.entries.emplace_back(expected(k, false, false), expected(i, top && tuple_keys.count(k), false));
            break;
        default: FUZZ_CHECK(false, "unexpected json type");
    }
    return p;
}

// The record for python: {"t": type, "v": value}, strings as the hex of their raw bytes,
// floats as the hex of their bits, integers as decimal text.
json for_python(const json& v, bool as_tuple, bool top) {
    static const char* hex = "0123456789abcdef";
    auto hex_of = [](const std::string& s) {
        std::string h;
        for (unsigned char c : s) h += {hex[c >> 4], hex[c & 15]};
        return h;
    };
    switch (v.type()) {
        case json::value_t::null: return {{"t", "none"}};
        case json::value_t::boolean: return {{"t", "bool"}, {"v", v.get<bool>()}};
        case json::value_t::number_integer: return {{"t", "int"}, {"v", std::to_string(v.get<std::int64_t>())}};
        case json::value_t::number_unsigned: return {{"t", "int"}, {"v", std::to_string(v.get<std::uint64_t>())}};
        case json::value_t::number_float: {
            const double d = v.get<double>();
            std::uint64_t bits;
            std::memcpy(&bits, &d, 8);
            std::string h;
            for (int i = 7; i >= 0; --i) h += {hex[(bits >> (8 * i + 4)) & 15], hex[(bits >> (8 * i)) & 15]};
            return {{"t", "float"}, {"v", h}};
        }
        case json::value_t::string: return {{"t", "str"}, {"v", hex_of(v.get_ref<const std::string&>())}};
        case json::value_t::array: {
            json a = json::array();
            for (const auto& i : v) a.push_back(for_python(i, false, false));
            return {{"t", as_tuple ? "tuple" : "list"}, {"v", a}};
        }
        default: {
            json a = json::array();
            for (const auto& [k, i] : v.items()) a.push_back({for_python(k, false, false), for_python(i, top && tuple_keys.count(k), false)});
            return {{"t", "dict"}, {"v", a}};
        }
    }
}

// Writes the pickle and its expected value when SKYSCRIPT_PICKLE_DUMP names a folder.
bool dump_for_python(const std::string& pickle, const json& record) {
    static const char* dir = std::getenv("SKYSCRIPT_PICKLE_DUMP");
    if (!dir || !*dir) return false;
    static int n = 0;
    // Named after the corpus file under the replay main, numbered under libFuzzer's.
    const char* input = std::getenv("SKYSCRIPT_FUZZ_INPUT");
    const auto stem = std::filesystem::path(dir) / (input ? std::filesystem::path(input).filename().string() : std::to_string(++n));
    std::ofstream(stem.string() + ".pickle", std::ios::binary) << pickle;
    std::ofstream(stem.string() + ".expected.json", std::ios::binary) << for_python(record, false, true).dump();
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteReader in{data, size};
    json record = json::object();
    const int n = in.byte() % 16;
    for (int i = 0; i < n && !in.empty(); ++i) {
        const std::uint8_t k = in.byte();
        const std::string key = k < 0x80 ? known_keys[k % std::size(known_keys)] : in.string(32);
        record[key] = value(in, 1);
    }
    if (!in.empty() && in.byte() % 4 == 0) record = value(in, 0); // sometimes not a dict at the top

    const std::string pickle = skyscript::pipeline::to_pickle(record, tuple_keys);
    if (dump_for_python(pickle, record)) return 0; // python3 judges these (check_pickles.py)
    PickleValue decoded;
    try {
        decoded = skyscript::fuzz::read_pickle(pickle);
    } catch (const skyscript::fuzz::PickleError& e) {
        FUZZ_CHECK(false, std::string("unreadable pickle: ") + e.what());
    }
    const PickleValue want = expected(record, false, true);
    FUZZ_CHECK(decoded == want, "decoded " + to_string(decoded) + "\nexpected " + to_string(want));
    return 0;
}
