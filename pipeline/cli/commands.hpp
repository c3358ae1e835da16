#pragma once
// One function per command (one file each, as osmium-tool does; plan, fetch, write, split and
// benchmarks run through the stage table). Each takes the arguments after the command name, returns the
// exit code, and throws on errors (main prints them as one line). command_table.cpp lists them.

#include <string>
#include <vector>

namespace skyscript::pipeline {

int command_extract(const std::vector<std::string>& args);
int command_tags(const std::vector<std::string>& args);
int command_caption(const std::vector<std::string>& args);
int command_fetch_one(const std::vector<std::string>& args);
int command_sources(const std::vector<std::string>& args);
int command_run_all(const std::vector<std::string>& args);
int command_report(const std::vector<std::string>& args);
int command_status(const std::vector<std::string>& args);
int command_merge(const std::vector<std::string>& args);

} // namespace skyscript::pipeline
