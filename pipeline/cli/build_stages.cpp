#include "pipeline/cli/build_stages.hpp"

#include "pipeline/fetch/disk_check.hpp"
#include "pipeline/catalog/extract_stage.hpp"
#include "pipeline/fetch/fetch_stage.hpp"
#include "pipeline/plan/plan_stage.hpp"
#include "pipeline/common/region.hpp"
#include "pipeline/catalog/shared_catalog.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/source_identity.hpp"
#include "pipeline/dataset/write_stage.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

int run_stage_command(const std::string& stage, const std::vector<std::string>& args) {
    const CliArgs cli{args, build_option_specs()};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build %s OUT [options]\n\nRuns the %s stage on the build in folder OUT, with the options OUT "
                    "recorded (flags override them where that changes no finished work).\n%s",
                    stage.c_str(), stage.c_str(), build_options_help().c_str());
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError(stage + " takes one OUT folder");
    if (cli.value("output")) throw UsageError(stage + " works on the OUT folder given as its argument; -o is for the bare command");
    auto session = open_build_session(cli, cli.positional()[0], "");
    if (stage == "plan") stage_plan(session);
    else if (stage == "fetch") return stage_fetch(session) ? 0 : 1;
    else if (stage == "write") return stage_write(session) > 0 ? 0 : 1;
    return 0;
}

} // namespace skyscript::pipeline
