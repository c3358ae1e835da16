// skyscript-build: OpenStreetMap + imagery → SkyScript-style image–text dataset.

#include "imagery/http_engine.hpp"
#include "imagery/one_line_text.hpp"
#include "imagery/url_redaction.hpp"
#include "pipeline/cli/command_table.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/cli/option_choices.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/interrupt.hpp"
#include "pipeline/state/build_lock.hpp"
#include "tag_filters/utf8_text.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <typeinfo>
#include <vector>

#include <cxxabi.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

// GDAL prints "ERROR 4: ..." on stderr by itself, before our own error line says the same
// thing again. This handler prints nothing and keeps the last failure, which the error line
// carries when it does not already quote it. CPL_DEBUG=ON brings GDAL's own output back.
std::mutex gdal_mutex;
std::string gdal_last_failure;

void CPL_STDCALL keep_gdal_failure(CPLErr level, CPLErrorNum number, const char* message) {
    if (CPLTestBool(CPLGetConfigOption("CPL_DEBUG", "NO"))) // GDAL's own lines, their /vsicurl/ tokens redacted: a pasted log leaks none
        CPLDefaultErrorHandler(level, number, skyscript::imagery::redact_url(message ? message : "").c_str());
    if (level != CE_Failure && level != CE_Fatal) return;
    const std::lock_guard lock(gdal_mutex);
    gdal_last_failure = skyscript::imagery::one_line_text(skyscript::imagery::redact_url(message ? message : "")); // a server's page: one line, bounded
}

std::string with_gdal_failure(const std::string& what) {
    const std::lock_guard lock(gdal_mutex);
    // GDAL's own text may quote a /vsicurl/ URL with its token: kept redacted and one line, as RasterError's.
    const auto& gdal = gdal_last_failure;
    // Already quoted: the line and GDAL's text may each be cut at their own length, so its
    // start is looked for, not all of it.
    if (gdal.empty() || what.find(gdal.substr(0, 200)) != std::string::npos) return what;
    return what + " (GDAL: " + gdal + ")";
}

// A failure's words, with what TBB's "pthread_create has failed: ..." comes from.
std::string with_thread_hint(std::string what) {
    if (what.starts_with("pthread_create has failed")) what += " (no thread could be started: a memory limit, ulimit -v, or the process limit, ulimit -u)";
    return what;
}

// A failure's words, with why a relative path led nowhere when the working folder has been
// removed since the run started (red-team round 34: "cannot make absolute path: No such file
// or directory [../sh1/state.sqlite]" blamed a shard that was there). Only for a run given a
// relative path (review of round 34: `status /abs/none` heard it too): among `args`, the
// command's arguments without its name, a word that is no option, no absolute path, no URL
// and no number, or the bare command's default OUT.
std::string with_working_folder_hint(std::string what, const std::vector<std::string>& args, bool bare) {
    const auto number = [](const std::string& a) {
        char* end = nullptr;
        std::strtod(a.c_str(), &end);
        return end != a.c_str() && (*end == '\0' || (*end == '%' && end[1] == '\0'));
    };
    const bool default_out = bare && std::none_of(args.begin(), args.end(), [](const std::string& a) { return a == "-o" || a.starts_with("--output"); });
    const bool relative = default_out || std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return !a.empty() && a[0] != '-' && a[0] != '/' && a.find("://") == std::string::npos && !number(a);
    });
    char buf[1];
    errno = 0;
    if (relative && !::getcwd(buf, sizeof buf) && errno == ENOENT)
        what += " (the working folder no longer exists, so relative paths lead nowhere: run it again from a folder that does)";
    return what;
}

// Out of memory, said as what it is (red-team round 33: a bare "error: std::bad_alloc" under
// ulimit -v). No allocation: it is also said from the terminate handler.
void say_out_of_memory() {
    static const char line[] = "skyscript-build: error: out of memory (the machine's, or a limit: ulimit -v, a cgroup's memory.max); what was "
                               "finished is kept: run it again with more memory\n";
    (void)!::write(STDERR_FILENO, line, sizeof line - 1); // no flush of stdout: another thread may hold its lock
}

// An exception no handler takes ends the run as main's catch would have, in one line: under
// ulimit -v a TBB worker's bad_alloc escaped through nlohmann::json's destructor, which
// allocates, and the run ended in "terminate called after throwing an instance of
// 'St9bad_alloc'" and SIGABRT (exit 134).
[[noreturn]] void on_terminate() {
    // The type without a rethrow: rethrowing allocates, and memory is what is missing.
    if (const auto* type = abi::__cxa_current_exception_type(); type && *type == typeid(std::bad_alloc)) {
        say_out_of_memory();
        ::_exit(1);
    }
    std::string what = "an unexpected failure";
    if (const auto e = std::current_exception()) try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            what = x.what();
        } catch (...) {
        }
    // A TBB worker starts the next worker: its thread that could not start is thrown there, on
    // no thread main waits on (review of round 33).
    if (const auto hinted = with_thread_hint(what); hinted != what) {
        std::fprintf(stderr, "skyscript-build: error: %s\n", hinted.c_str());
        ::_exit(1);
    }
    std::fprintf(stderr, "skyscript-build: internal error: %s\n", skyscript::tags::one_line(what, 8000).c_str());
    std::abort(); // a core to look at
}

// Whether fd 1 was closed when the run started (open_standard_fds then gave it /dev/null).
bool stdout_was_closed = false;

// fds 0, 1 and 2 open: a build started with one closed (`>&-`) would have its first file
// (build.lock) take that number and its summary lines or a library's messages written into it.
void open_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd)
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            if (fd == STDOUT_FILENO) stdout_was_closed = true;
            const int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY); // the lowest free number: fd itself
            if (opened != fd && opened >= 0) ::close(opened);
        }
}

// The soft limit on open files raised to the hard one (as Go's runtime and nginx do): a
// shell's 1024, or less, would cap the images in flight, their sockets and rasters, below
// what the machine allows. Capped at 1 Mi.
void raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t want = std::min<rlim_t>(limit.rlim_max, rlim_t{1} << 20);
    if (limit.rlim_cur >= want) return;
    limit.rlim_cur = want;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

// stdout written whole, or the run says it was not: a tool's output (tags --list, status
// --json > file) lost to a full disk must not exit 0. A build's own lines are a report of
// work done elsewhere: its exit code stays the build's, with a warning, and a reader that
// left (`| head`) is no error at all.
int with_stdout_checked(int code, bool build) {
    errno = 0;
    const bool flushed = std::fflush(stdout) == 0;
    const int err = errno;
    if (flushed && !std::ferror(stdout)) return code;
    // The failed write's errno is long gone: a pipe or socket whose reader left polls as an error.
    pollfd out{STDOUT_FILENO, POLLOUT, 0};
    const bool reader_gone = err == EPIPE || (::poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)));
    if (build && reader_gone) return code;
    const std::string why = err ? std::strerror(err) : "a write was refused: disk full, or a device error";
    if (build) {
        std::fprintf(stderr, "skyscript-build: warning: writing to standard output failed (%s); the build's files are as its exit code says\n", why.c_str());
        return code;
    }
    std::fprintf(stderr, "skyscript-build: error: writing to standard output failed (%s)\n", why.c_str());
    return code == 0 ? 1 : code;
}

} // namespace

int main(int argc, char** argv) {
    using namespace skyscript::pipeline;
    open_standard_fds();
    std::set_terminate(on_terminate);
    raise_open_file_limit();
    // Loopback never through a proxy, for GDAL's libcurl too (/vsicurl/, WMS), which reads
    // no_proxy from the environment: our engine's rule (docs/sources.md), where a dead
    // http_proxy failed a loopback COG as "cannot open as a raster" naming the proxy's port.
    ::setenv("no_proxy", skyscript::imagery::no_proxy_hosts().c_str(), 1);
    // Stage summaries go to stdout, which a file or pipe buffers whole: a line at a time, so a
    // run stopped by a signal (the handler _exits) or killed keeps what it had printed.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    // Past a file-size limit (ulimit -f) a write fails with EFBIG, said in one line as a full
    // disk is, instead of SIGXFSZ ending the run with no word (exit 153, a WAL cut short).
    std::signal(SIGXFSZ, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        if (!args.empty() && stdout_was_closed) {
            std::fputs("skyscript-build: error: standard output is closed (Bad file descriptor): the help prints there\n", stderr);
            return 1;
        }
        std::fputs(main_help().c_str(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : with_stdout_checked(0, false);
    }
    CPLSetErrorHandler(keep_gdal_failure);
    register_option_choices();
    const std::string command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    set_command_line(argc, argv);
    const bool bare = command.starts_with("-") || command.find('.') != std::string::npos || command.find('/') != std::string::npos;
    const Command* named = bare ? nullptr : find_command(command);
    const bool asks_help = std::any_of(rest.begin(), rest.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
    const bool builds = (bare || (named && named->builds)) && !asks_help; // a stage's --help is a tool's output
    if (builds) stop_cleanly_on_signals(command_line());
    // A tool whose result is what it prints, started with stdout closed (`>&-`): its output
    // went to /dev/null with exit 0 (red-team round 33); coreutils say "Bad file descriptor".
    if (stdout_was_closed && (asks_help || (named && named->prints_result))) {
        std::fprintf(stderr, "skyscript-build: error: standard output is closed (Bad file descriptor): %s prints its result there\n",
                     named ? command.c_str() : "the help");
        return 1;
    }
    try {
        if (named) return with_stdout_checked(named->run(rest), builds);
        if (bare) return with_stdout_checked(command_run_all(args), builds);
        throw UsageError("unknown command `" + command + "`");
    } catch (const UsageError& e) {
        // The help that lists the options of the command given (the top-level help lists none).
        const std::string help = named ? "skyscript-build " + command + " --help" : bare ? "skyscript-build INPUT.osm.pbf --help" : "skyscript-build --help";
        std::fprintf(stderr, "skyscript-build: %s (see %s)\n", skyscript::tags::one_line(e.what(), 8000).c_str(), help.c_str());
        return 2;
    } catch (const std::bad_alloc&) {
        say_out_of_memory();
        return 1;
    } catch (const std::exception& e) {
        // One line whatever text from outside it quotes (a file's name, a server's words).
        std::fprintf(stderr, "skyscript-build: error: %s\n", skyscript::tags::one_line(with_working_folder_hint(with_thread_hint(with_gdal_failure(e.what())), bare ? args : rest, bare), 8000).c_str());
        return 1;
    }
}
