// skyscript-build INPUT.osm.pbf [-o OUT] [options]: every stage, in order, resumable.

#include "pipeline/cli/build_stages.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/report/report_stage.hpp"
#include "pipeline/split/split_stage.hpp"

#include <cstdio>

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
    if (cli.positional().size() != 1) throw UsageError("expected one INPUT.osm.pbf");
    auto session = open_build_session(cli, cli.value("output").value_or("out"), cli.positional()[0]);
    stage_extract(session);
    stage_plan(session);
    const bool all_fetched = stage_fetch(session);
    const auto rows = stage_write(session);
    // A shard may own none of a small plan's jobs: nothing to write is then no error.
    const bool empty_shard = !session.options.text("shard").empty() && session.state->count_by_status()["failed"] == 0;
    if (rows == 0 && !empty_shard) {
        stage_report(session); // a build that got nothing is when people most need to see why
        throw std::runtime_error(session.out_dir + ": no image was written (see the failure reasons above and report.html)");
    }
    stage_split(session);
    stage_report(session);
    return all_fetched ? 0 : 1;
}

} // namespace skyscript::pipeline
