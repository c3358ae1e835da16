#include "pipeline/common/interrupt.hpp"


#include <csignal>
#include <string>

#include <unistd.h>

namespace skyscript::pipeline {

namespace {

// Formatted before any signal comes: the handler may only call async-signal-safe functions
// (reading these strings is one). Whole, however long the paths in the command (a fixed 4 KB
// cut two long ones and dropped the options after them).
std::string int_line, term_line, hup_line;

void format_line(std::string& out, const char* signal_name, const std::string& command) {
    // On a terminal the progress bar's line is open: start a new one.
    out = std::string(::isatty(STDERR_FILENO) ? "\n" : "") + "skyscript-build: stopped by " + signal_name +
          "; the finished work is kept. To resume, run the same command again: " + command + "\n";
}

extern "C" void stop_now(int sig) {
    const std::string& line = sig == SIGINT ? int_line : sig == SIGHUP ? hup_line : term_line;
    const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
    ::_exit(128 + sig);
}

} // namespace

void stop_cleanly_on_signals(const std::string& resume_command) {
    format_line(int_line, "SIGINT (Ctrl-C)", resume_command);
    format_line(term_line, "SIGTERM", resume_command);
    format_line(hup_line, "SIGHUP (its terminal closed; nohup or setsid keeps a build running past it)", resume_command);
    struct sigaction sa{};
    sa.sa_handler = stop_now;
    sigemptyset(&sa.sa_mask);
    // SIGHUP and SIGINT that the build was started ignoring stay ignored, as POSIX tools
    // leave them: `nohup` starts it with SIGHUP ignored (a closed terminal must not stop it),
    // a script's background job with SIGINT (Ctrl-C at the terminal is not for it). SIGTERM,
    // a scheduler's stop, is always taken.
    sigaction(SIGTERM, &sa, nullptr);
    for (const int sig : {SIGINT, SIGHUP}) {
        struct sigaction before{};
        if (sigaction(sig, nullptr, &before) == 0 && before.sa_handler == SIG_IGN) continue;
        sigaction(sig, &sa, nullptr);
    }
    // A reader of stdout gone (`| head`, a pager quit) ended the build with no word: its
    // summary lines are lost now, the build goes on (main() says so at the end).
    std::signal(SIGPIPE, SIG_IGN);
}

} // namespace skyscript::pipeline
