#pragma once
// The stages of a build, in the order of the data flow, each named once. The state DB's stage
// records, the options' stage column (option_table.hpp), the report's stage rows, `status` and
// the command table (pipeline/cli/stage_table.cpp, which adds each stage's help and run) all
// take their names from here, checked when the code compiles (StageName).

#include <string_view>

namespace skyscript::pipeline {

struct StageInfo {
    std::string_view name;
    bool in_bare_command; // run, in this order, by `skyscript-build INPUT.osm.pbf` (polish only with --polish)
};

inline constexpr StageInfo stage_list[] = {
    {"extract", true}, {"plan", true},   {"fetch", true},       {"write", true},  {"polish", true},
    {"split", true},   {"report", true}, {"benchmarks", false}, {"merge", false},
};

// Position in stage_list; -1 for a name that is not a stage.
constexpr int stage_rank(std::string_view name) noexcept {
    for (int i = 0; i < static_cast<int>(std::size(stage_list)); ++i)
        if (stage_list[i].name == name) return i;
    return -1;
}

// A stage's name as the code writes it: checked against stage_list when the code compiles.
class StageName {
public:
    consteval StageName(const char* name) : name_(name) {
        if (stage_rank(name_) < 0) throw "not a stage of stage_list (pipeline/common/stage_names.hpp)";
    }
    constexpr std::string_view view() const noexcept { return name_; }
    int rank() const noexcept { return stage_rank(name_); }

private:
    std::string_view name_;
};

} // namespace skyscript::pipeline
