#pragma once
// A minimal pickle reader for the fuzz target of the pickle writer: exactly the opcodes of
// protocol 2 that pipeline/dataset/pickle_writer.cpp may write (Lib/pickletools.py), into
// a value tree; anything else (another opcode, a truncated file, a stack that does not
// end with one value at STOP) is an error. Written from the format, not from the writer.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::fuzz {

struct PickleValue {
    enum class Kind { none, boolean, integer, floating, string, list, tuple, dict, mark };
    Kind kind = Kind::none;
    bool boolean = false;
    __int128 integer = 0;      // LONG1 of up to 16 bytes
    std::uint64_t float_bits = 0; // BINFLOAT, compared bit for bit (NaN, -0.0)
    std::string string;        // BINUNICODE bytes as stored
    std::vector<PickleValue> items;                          // list, tuple
    std::vector<std::pair<PickleValue, PickleValue>> entries; // dict, in order

    bool operator==(const PickleValue&) const = default;
};

class PickleError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

PickleValue read_pickle(std::string_view bytes);

// For messages: a Python-like rendering.
std::string to_string(const PickleValue& v);

} // namespace skyscript::fuzz
