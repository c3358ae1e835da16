#pragma once
// Ctrl-C (SIGINT), SIGTERM and SIGHUP during a build: one line saying how to resume, then exit
// 130 / 143 / 129 at once (SIGINT and SIGHUP not when the build was started ignoring them:
// nohup, a script's background job); SIGPIPE is ignored (stdout's reader gone is no reason
// to stop). Stopping at once is safe for the same reason SIGKILL is: the state
// DB commits in transactions (WAL; the plan's under a rollback journal) and every output
// file is written aside and renamed, so a rerun finds what was finished and clears what was
// half-written.

#include <string>

namespace skyscript::pipeline {

// `resume_command`: the command that continues the build (this run's own words).
void stop_cleanly_on_signals(const std::string& resume_command);

} // namespace skyscript::pipeline
