// skyscript-build benchmarks OUT [--per-class N]: SkyScript's classification sets from tags.

#include "pipeline/benchmarks/benchmark_stage.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/cli/open_build_session.hpp"

#include <cstdio>

namespace skyscript::pipeline {

int command_benchmarks(const std::vector<std::string>& args) {
    const CliArgs cli{args, build_option_specs()};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build benchmarks OUT [options]\n\n"
                    "Writes OUT/benchmarks/{SkyScript_cls,roof_shape,smoothness,surface}/ with\n"
                    "img_txt_pairs_test.csv (filepath,label) and classnames.txt, from the val and test images\n"
                    "(the split's options apply), labelled from their focus object's tags; --per-class N caps a class.\n%s",
                    build_options_help().c_str());
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError("benchmarks takes one OUT folder");
    if (cli.value("output")) throw UsageError("benchmarks works on the OUT folder given as its argument; -o is for the bare command");
    auto session = open_build_session(cli, cli.positional()[0], "");
    const auto summary = run_benchmarks(session.out_dir, session.options, *session.state);
    if (!session.quiet) print_benchmark_summary(summary, session.out_dir);
    return 0;
}

} // namespace skyscript::pipeline
