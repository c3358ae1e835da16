// skyscript-build report OUT: OUT/report.json and OUT/report.html from a build's state DB
// and files (also the last step of the bare command).

#include "pipeline/cli/commands.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/sqlite_db.hpp"
#include "pipeline/report/report_stage.hpp"

#include <cstdio>
#include <filesystem>

#include <sqlite3.h>

namespace skyscript::pipeline {

int command_report(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build report OUT [-q]\n\n"
                    "Writes OUT/report.json (counts by stage, source, year, GSD, focus tag, skip and failure reason;\n"
                    "stage timings and rates; options; versions) and OUT/report.html (the same numbers with charts,\n"
                    "a map and a gallery; one file that opens offline). Safe while a build runs.\n");
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError("report takes one OUT folder");
    const auto& out = cli.positional()[0];
    const auto summary = run_report(out);
    print_report_summary(summary, cli.flag("quiet"), out);
    // Recorded as finished, unless a writer holds the state DB past the wait (a plan writing
    // its jobs): the report is written, and a run alone while a build runs is a look at it;
    // failing here left a written report behind an error ("database is locked").
    try {
        StateDb state{BuildDir(out).state_db(), false};
        record_stage(state, "report", report_stage_summary(summary));
    } catch (const SqliteError& e) {
        if (e.primary_code() != SQLITE_BUSY && e.primary_code() != SQLITE_LOCKED) throw;
        std::fprintf(stderr, "skyscript-build: note: %s: report written, but not recorded as finished: another run holds the state DB (a plan writing its jobs?)\n",
                     out.c_str());
    }
    return 0;
}

} // namespace skyscript::pipeline
