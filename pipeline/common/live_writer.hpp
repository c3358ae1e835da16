#pragma once
// Whether the process a file names as its writer (a NAME.partial-PID-N file, the build lock's
// holder line) still runs as that writer: alive, no zombie, and started before the file was
// last written. After a reboot or a container's restart a PID is reused, and a killed run's
// leftovers would otherwise be taken for a live run's for ever.

#include <filesystem>

namespace skyscript::pipeline {

// True also when /proc cannot tell (taken for the writer).
bool live_process_wrote(long pid, const std::filesystem::path& file);

} // namespace skyscript::pipeline
