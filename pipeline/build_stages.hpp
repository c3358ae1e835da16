#pragma once
// The stages of a build in order, each run on a BuildSession and recorded in its state
// DB: what the bare command runs one after the other, and what each stage subcommand
// runs alone. Each prints its closing summary unless --quiet.

#include "build_session.hpp"

namespace skyscript::pipeline {

void stage_extract(BuildSession& s);      // skipped when OUT's catalog is finished
void stage_plan(BuildSession& s);         // skipped when OUT's plan is finished
bool stage_fetch(BuildSession& s);        // true when no planned job is left
std::int64_t stage_write(BuildSession& s); // rows in the CSV

// `plan OUT`, `fetch OUT`, `write OUT`: OUT is the one positional argument.
int run_stage_command(const std::string& stage, const std::vector<std::string>& args);

} // namespace skyscript::pipeline
