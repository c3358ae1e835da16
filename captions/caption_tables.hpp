#pragma once
// The data that shapes captions (key renames, class keys, tag priority), parsed from
// the text files in captions/ that are compiled into the program.

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace skyscript::captions {

// The lines of a data file compiled into the program: comments (from `#`) and surrounding
// blanks removed, empty lines left out. Every word list and table here is read through it.
std::vector<std::string_view> data_lines(std::string_view text);

struct CaptionTables {
    std::unordered_map<std::string, std::string> key_renames; // highway -> road
    std::unordered_set<std::string> class_keys;               // power, natural, man_made
    std::unordered_map<std::string, int> priority;            // building -> 0, landuse -> 1, ...
    std::unordered_set<std::string> adjective_keys;           // natural style: sport, crop, ... read before the noun

    // Text formats: see key_renames.tsv, class_keys.txt, feature_priority.txt.
    static CaptionTables parse(std::string_view renames, std::string_view class_keys, std::string_view priority,
                               std::string_view adjective_keys = {});
    static const CaptionTables& builtin();
};

} // namespace skyscript::captions
