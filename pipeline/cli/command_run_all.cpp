// skyscript-build INPUT.osm.pbf [-o OUT] [options]: every stage, in order, resumable.

#include "pipeline/cli/commands.hpp"
#include "pipeline/cli/stage_table.hpp"
#include "pipeline/report/report_stage.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace skyscript::pipeline {

int command_run_all(const std::vector<std::string>& args) {
    const CliArgs cli{args, build_option_specs()};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build INPUT.osm.pbf [-o OUT] [options]\n\n"
                    "Runs every stage: extract (OUT/catalog.gpkg), plan (jobs in OUT/state.sqlite), fetch\n"
                    "(OUT/imagesK/*.jpg), write (OUT/metaK/*.pickle, meta.jsonl), split (SkyScript_train_unfiltered.csv,\n"
                    "SkyScript_val.csv, SkyScript_test.csv; see split --help), report (OUT/report.json, OUT/report.html).\n"
                    "A rerun with the same arguments continues where the last run stopped.\n%s",
                    build_options_help().c_str());
        return 0;
    }
    if (cli.positional().size() != 1) {
        // After `--` every argument is an input (red-team round 33: `-- -in.osm.pbf -o OUT` said only this).
        const bool after_dashes = std::find(args.begin(), args.end(), "--") != args.end();
        throw UsageError("expected one INPUT.osm.pbf, got " + std::to_string(cli.positional().size()) +
                         (after_dashes ? " (after `--` every argument is an input: put the options before it)" : ""));
    }
    auto session = open_build_session(cli, cli.value("output").value_or("out"), cli.positional()[0]);
    bool complete = true;
    for (const auto& stage : stage_table()) {
        if (!in_bare_command(stage)) continue;
        const auto summary = stage.name.view() == "polish"
                                 ? run_polish_keeping_split(session, split_made(session))
                                 : run_recorded(session, stage.name, stage.run);
        complete = complete && summary.complete;
        if (!stage.empty_ends_build || summary.count != 0) continue;
        // A shard may own none of a small plan's jobs (no warning then), or only jobs no source has
        // imagery for. A server's errors past --attempts still fail it: --retry-failed may do better.
        if (!shard_without_imagery(session)) {
            run_recorded(session, "report", stage_report); // a build that got nothing is when people most need to see why
            // Jobs left planned: a source was stopped (said above), not failed for good.
            if (const auto planned = session.state->count_by_status()["planned"]; planned > 0)
                throw std::runtime_error(session.out_dir + ": no image was written: the fetch stopped with " + std::to_string(planned) +
                                         " jobs planned (see the source named above); the build run again asks them");
            throw std::runtime_error(session.out_dir + ": no image was written (the failure reasons are in report.html)");
        }
        if (session.state->count_by_status()["failed"] > 0) warn_shard_without_imagery(session);
    }
    return complete ? 0 : 1;
}

} // namespace skyscript::pipeline
