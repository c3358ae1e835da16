// skyscript-build INPUT.osm.pbf [-o OUT] [options]: every stage, in order, resumable.

#include "pipeline/cli/commands.hpp"
#include "pipeline/cli/stage_table.hpp"

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
    if (cli.positional().size() != 1) throw UsageError("expected one INPUT.osm.pbf");
    auto session = open_build_session(cli, cli.value("output").value_or("out"), cli.positional()[0]);
    bool complete = true;
    for (const auto& stage : bare_stages()) {
        const auto outcome = stage.run(session);
        complete = complete && outcome.complete;
        if (!outcome.stop.empty()) {
            find_stage("report").run(session); // a build that got nothing is when people most need to see why
            throw std::runtime_error(outcome.stop);
        }
    }
    return complete ? 0 : 1;
}

} // namespace skyscript::pipeline
