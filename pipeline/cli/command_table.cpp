#include "pipeline/cli/command_table.hpp"

#include "pipeline/cli/commands.hpp"
#include "pipeline/cli/stage_table.hpp"

namespace skyscript::pipeline {

namespace {

using G = Command::Group;

int command_plan(const std::vector<std::string>& args) { return run_stage_command(find_stage("plan"), args); }
int command_fetch(const std::vector<std::string>& args) { return run_stage_command(find_stage("fetch"), args); }
int command_write(const std::vector<std::string>& args) { return run_stage_command(find_stage("write"), args); }
// `polish OUT` is the stage whatever OUT recorded: it turns --polish on (and OUT records it, so
// split writes the polished columns from then on).
int command_polish(const std::vector<std::string>& args) {
    auto with_flag = args;
    with_flag.push_back("--polish");
    return run_stage_command(find_stage("polish"), with_flag);
}
int command_split(const std::vector<std::string>& args) { return run_stage_command(find_stage("split"), args); }
int command_benchmarks(const std::vector<std::string>& args) { return run_stage_command(find_stage("benchmarks"), args); }

// A stage's command is named as the stage (StageName: checked against stage_names.hpp).
constexpr std::string_view stage(StageName name) { return name.view(); }

constexpr Command table[]{
    {stage("extract"), G::stage, "PBF → OUT/catalog.gpkg of visually groundable OSM objects", command_extract, true},
    {stage("plan"), G::stage, "catalog → jobs in OUT/state.sqlite: sampled objects, source, tile, captions", command_plan, true},
    {stage("fetch"), G::stage, "every planned job's image → OUT/imagesK/STEM.jpg", command_fetch, true},
    {stage("write"), G::stage, "meta pickles OUT/metaK/STEM.pickle, meta.jsonl", command_write, true},
    {stage("polish"), G::stage, "title_polished, title_multi_objects_polished from an OpenAI-compatible model, checked against the tags", command_polish, true},
    {stage("split"), G::stage, "SkyScript_train_unfiltered.csv, _val.csv, _test.csv by spatial block; --scores, --format webdataset", command_split, true},
    {stage("benchmarks"), G::stage, "SkyScript_cls, roof shape, smoothness, surface sets from tags (OUT/benchmarks/)", command_benchmarks, true},
    {stage("report"), G::stage, "OUT/report.json and OUT/report.html: what the build got, what it did not and why", command_report, false},
    {stage("merge"), G::stage, "OUT SHARD_DIR...: the outputs of --shard i/N workers joined into one dataset", command_merge, true},
    {"tags", G::tool, "the tag vocabulary (tags --list)", command_tags, false, true},
    {"caption", G::tool, "SkyScript captions for given tags", command_caption, false, true},
    {"fetch-one", G::tool, "one image tile from a raster (GeoTIFF, COG, VRT, WMS, ...)", command_fetch_one, false},
    {"sources", G::tool, "the imagery sources and whether each is usable now", command_sources, false, true},
    {"status", G::tool, "where a running or finished build stands: jobs by status, rate, ETA (--json)", command_status, false, true},
};

} // namespace

std::span<const Command> command_table() { return table; }

const Command* find_command(std::string_view name) {
    for (const auto& c : table)
        if (c.name == name) return &c;
    return nullptr;
}

std::string main_help() {
    std::string out = "Usage: skyscript-build INPUT.osm.pbf [-o OUT] [options]   run every stage\n"
                      "       skyscript-build COMMAND [options]                  run one stage or tool\n\n"
                      "Stages (each works on an output folder; the bare form runs them in order):\n";
    auto list = [&](G group) {
        for (const auto& c : table)
            if (c.group == group) out.append("  ").append(c.name).append(12 - c.name.size(), ' ').append(c.synopsis).append("\n");
    };
    list(G::stage);
    out += "\nTools:\n";
    list(G::tool);
    out += "\n`skyscript-build COMMAND --help` describes each command and its options; `skyscript-build INPUT.osm.pbf --help`\n"
           "the bare form's (every build option, with its default).\n";
    return out;
}

} // namespace skyscript::pipeline
