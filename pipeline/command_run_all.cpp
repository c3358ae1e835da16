// skyscript-build INPUT.osm.pbf: every stage built so far, in order.

#include "commands.hpp"
#include "extract_stage.hpp"

#include <cstdio>

namespace skyscript::pipeline {

int command_run_all(const std::vector<std::string>& args) {
    const CliArgs cli{args, extract_option_specs()};
    if (cli.flag("help")) return command_extract({"--help"});
    const auto req = parse_extract_args(cli);
    const auto result = run_extract(req);
    if (!req.quiet) {
        print_extract_summary(result);
        std::printf("later stages (plan, fetch, write, split, report) are not built yet: the catalog is the output\n");
    }
    return 0;
}

} // namespace skyscript::pipeline
