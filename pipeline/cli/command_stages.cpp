// skyscript-build plan|fetch|write OUT [options]: one stage on an existing build folder.

#include "pipeline/cli/build_stages.hpp"
#include "pipeline/cli/commands.hpp"

namespace skyscript::pipeline {

int command_plan(const std::vector<std::string>& args) { return run_stage_command("plan", args); }
int command_fetch(const std::vector<std::string>& args) { return run_stage_command("fetch", args); }
int command_write(const std::vector<std::string>& args) { return run_stage_command("write", args); }

} // namespace skyscript::pipeline
