#pragma once
// Every command of skyscript-build, one row each (as osmium-tool's registry of commands):
// its name, its line in `skyscript-build --help`, the function that runs it, and whether it
// builds into an OUT folder (then SIGINT and SIGTERM stop it with a resume line). main.cpp
// dispatches through it and prints its help from it; the bare form (INPUT.osm.pbf) runs the
// stage table (stage_table.hpp).

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

struct Command {
    enum class Group { stage, tool };
    std::string_view name;
    Group group;
    std::string_view synopsis; // its line in --help
    int (*run)(const std::vector<std::string>& args);
    bool builds;               // writes into an OUT folder
    bool prints_result = false; // its result is what it prints: a closed stdout is an error, not /dev/null
};

std::span<const Command> command_table();
const Command* find_command(std::string_view name);
// `skyscript-build --help`.
std::string main_help();

} // namespace skyscript::pipeline
