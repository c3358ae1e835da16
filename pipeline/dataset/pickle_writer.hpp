#pragma once
// Python pickles (protocol 2, which every Python 3 and Python 2.3+ loads) of JSON-like
// values, for the SkyScript meta files. No Debian C++ library writes pickles, and the
// subset needed (dict, list, tuple, str, int, float, bool, None) is a few opcodes of the
// documented format (Lib/pickletools.py); the system python3 loads every file in the tests.

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace skyscript::pipeline {

// `value` as a pickle. Arrays under a top-level key named in `tuple_keys` become tuples
// (SkyScript's `box` and `time` are tuples), every other array a list. Strings are written
// as UTF-8 with ill-formed bytes replaced by U+FFFD (python3 refuses the file otherwise);
// integers keep their value over the whole int64 and uint64 ranges.
std::string to_pickle(const nlohmann::ordered_json& value, const std::set<std::string>& tuple_keys = {});

} // namespace skyscript::pipeline
