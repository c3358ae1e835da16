#pragma once
// A child process run with a deadline, its stdout and stderr captured and its peak
// resident memory measured (getrusage of that child, ru_maxrss): what a build under
// fault injection took, including when it had to be killed.

#include <string>
#include <vector>

namespace skyscript::test {

struct MeasuredRun {
    int exit_code = -1;      // or 128 + the signal that ended it
    bool timed_out = false;  // killed (SIGKILL) at the deadline
    std::string out, err;
    long peak_rss_kb = 0;
    double seconds = 0;
};

// Runs argv (argv[0] a path) with `env` ("NAME=value") added to this process's environment,
// stdin from /dev/null, for at most `deadline_s` seconds.
MeasuredRun run_measured(const std::vector<std::string>& argv, const std::vector<std::string>& env, double deadline_s);

} // namespace skyscript::test
