#pragma once
// The stages of a build in order, each run on a BuildSession and recorded in its state
// DB: what the bare command runs one after the other, and what each stage subcommand
// runs alone. Each prints its closing summary unless --quiet.

#include "pipeline/catalog/extract_stage.hpp"
#include "pipeline/cli/open_build_session.hpp"
#include "pipeline/dataset/write_stage.hpp"
#include "pipeline/fetch/fetch_stage.hpp"
#include "pipeline/plan/plan_stage.hpp"

#include <string>
#include <vector>

namespace skyscript::pipeline {

// `plan OUT`, `fetch OUT`, `write OUT`: OUT is the one positional argument.
int run_stage_command(const std::string& stage, const std::vector<std::string>& args);

} // namespace skyscript::pipeline
