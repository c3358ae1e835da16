#include "pipeline/cli/stage_table.hpp"

#include "pipeline/catalog/extract_stage.hpp"
#include "pipeline/dataset/write_stage.hpp"
#include "pipeline/fetch/fetch_stage.hpp"
#include "pipeline/plan/plan_stage.hpp"
#include "pipeline/report/report_stage.hpp"
#include "pipeline/split/split_stage.hpp"

#include <cstdio>
#include <iterator>
#include <stdexcept>

namespace skyscript::pipeline {

namespace {

StageOutcome write_outcome(BuildSession& s) {
    const auto rows = stage_write(s);
    StageOutcome outcome{true, rows, ""};
    // A shard may own none of a small plan's jobs: nothing to write is then no error.
    const bool empty_shard = !s.options.text("shard").empty() && s.state->count_by_status()["failed"] == 0;
    if (rows == 0 && !empty_shard) outcome.stop = s.out_dir + ": no image was written (see the failure reasons above and report.html)";
    return outcome;
}

constexpr Stage table[]{
    {"extract", [](BuildSession& s) { stage_extract(s); return StageOutcome{true, -1, ""}; }},
    {"plan", [](BuildSession& s) { stage_plan(s); return StageOutcome{true, -1, ""}; }},
    {"fetch", [](BuildSession& s) { return StageOutcome{stage_fetch(s), -1, ""}; }},
    {"write", write_outcome, true},
    {"split", [](BuildSession& s) { return StageOutcome{true, stage_split(s), ""}; }, true},
    {"report", [](BuildSession& s) { stage_report(s); return StageOutcome{true, -1, ""}; }},
};

// The table follows stage_list: same names, same order.
constexpr bool follows_stage_list() {
    std::size_t i = 0;
    for (const auto& info : stage_list) {
        if (!info.in_bare_command) continue;
        if (i >= std::size(table) || table[i].name.view() != info.name) return false;
        ++i;
    }
    return i == std::size(table);
}
static_assert(follows_stage_list(), "stage_table.cpp: the stages must be stage_list's bare-command stages, in its order");

} // namespace

std::span<const Stage> bare_stages() { return table; }

const Stage& find_stage(StageName name) {
    for (const auto& s : table)
        if (s.name.view() == name.view()) return s;
    throw std::logic_error("no stage entry named " + std::string(name.view()));
}

int run_stage_command(const Stage& stage, const std::vector<std::string>& args) {
    const std::string name(stage.name.view());
    const CliArgs cli{args, build_option_specs()};
    if (cli.flag("help")) {
        std::printf("Usage: skyscript-build %s OUT [options]\n\nRuns the %s stage on the build in folder OUT, with the options OUT "
                    "recorded (flags override them where that changes no finished work).\n%s",
                    name.c_str(), name.c_str(), build_options_help().c_str());
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError(name + " takes one OUT folder");
    if (cli.value("output")) throw UsageError(name + " works on the OUT folder given as its argument; -o is for the bare command");
    auto session = open_build_session(cli, cli.positional()[0], "");
    const auto outcome = stage.run(session);
    return outcome.complete && !(stage.zero_fails && outcome.count == 0) ? 0 : 1;
}

} // namespace skyscript::pipeline
