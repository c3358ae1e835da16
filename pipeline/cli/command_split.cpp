// skyscript-build split OUT [options]: the train/val/test CSVs (and WebDataset shards) of a build.

#include "pipeline/cli/commands.hpp"
#include "pipeline/cli/open_build_session.hpp"
#include "pipeline/split/split_stage.hpp"

#include <cstdio>

namespace skyscript::pipeline {

int command_split(const std::vector<std::string>& args) {
    const CliArgs cli{args, build_option_specs()};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build split OUT [options]\n\n"
                    "Splits the written images of the build in OUT by spatial block (--split-block degrees of\n"
                    "the box centre): SkyScript_train_unfiltered.csv, SkyScript_val.csv, SkyScript_test.csv;\n"
                    "with --scores FILE[,NAME] also the top-P%% files with similarity_NAME; with --format\n"
                    "webdataset|both tar shards in OUT/webdataset/{train,val,test}/. Sizes: a count, P%% or auto\n"
                    "(min(5000, 2%%) val, min(30000, 10%%) test).\n%s",
                    build_options_help().c_str());
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError("split takes one OUT folder");
    if (cli.value("output")) throw UsageError("split works on the OUT folder given as its argument; -o is for the bare command");
    auto session = open_build_session(cli, cli.positional()[0], "");
    return stage_split(session) > 0 ? 0 : 1;
}

} // namespace skyscript::pipeline
