#include "pipeline/common/live_writer.hpp"

#include <cerrno>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::pipeline {

bool live_process_wrote(long pid, const std::filesystem::path& file) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
    // /proc/PID/stat: "pid (comm) state ..." with the start time (clock ticks after boot) 20 fields after the state.
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat_line;
    std::getline(stat_file, stat_line);
    const auto close = stat_line.rfind(')');
    if (close == std::string::npos) return true; // no /proc: taken for the writer
    std::istringstream fields(stat_line.substr(close + 1));
    std::string state, field;
    fields >> state;
    if (state == "Z" || state == "X") return false; // dead, not yet reaped
    for (int i = 0; i < 18 && fields >> field;) ++i;
    unsigned long long start_ticks = 0;
    if (!(fields >> start_ticks)) return true;
    std::ifstream proc_stat("/proc/stat");
    long long boot = -1;
    for (std::string key; proc_stat >> key;) {
        if (key == "btime") {
            proc_stat >> boot;
            break;
        }
        proc_stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    struct stat st {};
    if (boot < 0 || ticks <= 0 || ::stat(file.c_str(), &st) != 0) return true;
    const double started = static_cast<double>(boot) + static_cast<double>(start_ticks) / static_cast<double>(ticks);
    return started <= static_cast<double>(st.st_mtime) + 2; // 2 s: btime is whole seconds, and a clock may be stepped a little
}

} // namespace skyscript::pipeline
