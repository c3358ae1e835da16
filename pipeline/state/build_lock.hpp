#pragma once
// One build per output folder (docs/reliability.md). A build, a stage or a merge
// takes an exclusive advisory lock (flock) on OUT/build.lock for as long as it runs; the
// kernel drops it when the process ends, however it ends, so a SIGKILLed run never leaves
// a stale lock. A second writer on the same OUT stops at once with one line naming the
// holder. `status` and `report` only read, and take no lock. A run that made OUT and left
// nothing in it (refused before writing) removes the lock file and OUT again.

#include <optional>
#include <string>

namespace skyscript::pipeline {

class BuildLock {
public:
    // Creates OUT when needed and locks it for `command` (the words of this run, for the
    // message another run prints). Throws std::runtime_error naming the process that holds it.
    BuildLock(const std::string& out_dir, const std::string& command);
    ~BuildLock();
    BuildLock(const BuildLock&) = delete;
    BuildLock& operator=(const BuildLock&) = delete;

private:
    int fd_ = -1;
    std::string out_dir_;
    bool made_out_ = false; // OUT did not exist: a run that leaves nothing else removes it again
};

// Whether a process holds OUT's build lock now, asked without taking it (the kernel's list of
// locks, /proc/locks): a status that took it for a moment could turn a starting build away.
// nullopt when it cannot be told (no /proc).
std::optional<bool> build_lock_held(const std::string& out_dir);

// The line the lock's holder wrote in OUT/build.lock ("process PID since TIME: COMMAND"), ""
// when there is none to read.
std::string build_lock_holder(const std::string& out_dir);

// This run's command line, as the holder line and the resume hint show it.
void set_command_line(int argc, char** argv);
const std::string& command_line();

} // namespace skyscript::pipeline
