// skyscript-build: OpenStreetMap + imagery → SkyScript-style image–text dataset.

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
#include <csignal>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace {

// GDAL prints "ERROR 4: ..." on stderr by itself, before our own error line says the same
// thing again. This handler prints nothing and keeps the last failure, which the error line
// carries when it does not already quote it. CPL_DEBUG=ON brings GDAL's own output back.
std::mutex gdal_mutex;
std::string gdal_last_failure;

void CPL_STDCALL keep_gdal_failure(CPLErr level, CPLErrorNum number, const char* message) {
    if (CPLTestBool(CPLGetConfigOption("CPL_DEBUG", "NO"))) CPLDefaultErrorHandler(level, number, message);
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

} // namespace

int main(int argc, char** argv) {
    using namespace skyscript::pipeline;
    // Stage summaries go to stdout, which a file or pipe buffers whole: a line at a time, so a
    // run stopped by a signal (the handler _exits) or killed keeps what it had printed.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    // Past a file-size limit (ulimit -f) a write fails with EFBIG, said in one line as a full
    // disk is, instead of SIGXFSZ ending the run with no word (exit 153, a WAL cut short).
    std::signal(SIGXFSZ, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        std::fputs(main_help().c_str(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    CPLSetErrorHandler(keep_gdal_failure);
    register_option_choices();
    const std::string command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    set_command_line(argc, argv);
    const bool bare = command.starts_with("-") || command.find('.') != std::string::npos || command.find('/') != std::string::npos;
    const Command* named = bare ? nullptr : find_command(command);
    if (bare || (named && named->builds)) stop_cleanly_on_signals(command_line());
    try {
        if (named) return named->run(rest);
        if (bare) return command_run_all(args);
        throw UsageError("unknown command `" + command + "`");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "skyscript-build: %s (see skyscript-build --help)\n", skyscript::tags::one_line(e.what(), 8000).c_str());
        return 2;
    } catch (const std::exception& e) {
        // One line whatever text from outside it quotes (a file's name, a server's words).
        std::fprintf(stderr, "skyscript-build: error: %s\n", skyscript::tags::one_line(with_gdal_failure(e.what()), 8000).c_str());
        return 1;
    }
}
