// skyscript-build status OUT [--json]: where a running or finished build stands.

#include "pipeline/cli/commands.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/report/build_status.hpp"

#include <cstdio>

namespace skyscript::pipeline {

int command_status(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"json", false}, {"window", true}, {"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build status OUT [--json] [--window S] [-q]\n\n"
                    "Jobs by status, the stage at work, the current rate (images written in the last S seconds,\n"
                    "default 60) and an ETA, read from OUT/state.sqlite without changing it: safe while a build runs\n"
                    "(while a plan writes its jobs it holds the state DB, and status says so instead of counting).\n"
                    "--json prints one JSON object for scripts and schedulers. -q changes nothing: status prints\n"
                    "only its own output, on stdout.\n");
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError("status takes one OUT folder");
    const double window = cli.value("window") ? parse_double(*cli.value("window"), "--window") : 60.0;
    if (!(window > 0 && window <= 1e7)) throw UsageError("--window: expected seconds > 0, at most 10000000 (115 days)");
    const auto status = read_build_status(cli.positional()[0], window);
    if (cli.flag("json")) std::printf("%s\n", status_json(status).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    else std::fputs(status_text(status).c_str(), stdout);
    return 0;
}

} // namespace skyscript::pipeline
