#pragma once
// The stages the commands run on a build folder, one entry each: its name (stage_names.hpp),
// how it runs on a BuildSession and what its outcome means. The bare command runs the
// entries in order; `plan OUT`, `fetch OUT`, `write OUT` run one through run_stage_command.
// Each stage records itself in the state DB under its name and prints its closing summary
// unless --quiet.

#include "pipeline/cli/open_build_session.hpp"
#include "pipeline/common/stage_names.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct StageOutcome {
    bool complete = true;    // false: work is left (fetch with planned jobs): the command exits 1
    std::int64_t count = 0;  // what it made (rows, images); -1 when it counts nothing
    std::string stop;        // not empty: the build cannot go on (the report is still written)
};

struct Stage {
    StageName name;
    StageOutcome (*run)(BuildSession& session);
    bool zero_fails = false; // its subcommand exits 1 when count is 0 (write, split)
};

// The bare command's stages, in stage_list order.
std::span<const Stage> bare_stages();
const Stage& find_stage(StageName name);

// `plan OUT`, `fetch OUT`, `write OUT`: OUT is the one positional argument.
int run_stage_command(const Stage& stage, const std::vector<std::string>& args);

} // namespace skyscript::pipeline
