#include "build_stages.hpp"

#include "disk_check.hpp"
#include "extract_stage.hpp"
#include "fetch_stage.hpp"
#include "plan_stage.hpp"
#include "region.hpp"
#include "shared_catalog.hpp"
#include "build_sources.hpp"
#include "source_identity.hpp"
#include "write_stage.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

void stage_extract(BuildSession& s) {
    if (s.state->stage_finished("extract") && fs::exists(s.catalog_path())) return;
    if (const auto shared = s.options.text("catalog"); !shared.empty()) { // made once, on shared storage (docs/scale.md)
        const auto placed = place_shared_catalog(shared, s.out_dir, s.options);
        if (!s.quiet) std::printf("extract: %s %s as %s\n", placed.copied ? "copied" : "linked", shared.c_str(), placed.placed_at.c_str());
        s.state->finish_stage("extract", 0, nlohmann::json{{"objects", placed.objects}, {"catalog", shared}}.dump());
        return;
    }
    ExtractRequest req;
    req.input = s.options.text("input");
    req.out_dir = s.out_dir;
    req.tags = s.options.text("tags");
    req.hidden = s.options.text("hidden");
    if (const auto b = s.options.text("bbox"); !b.empty()) req.bbox = parse_bbox(b);
    req.polygon = s.options.text("polygon");
    if (req.bbox && !req.polygon.empty()) throw UsageError("--bbox and --polygon exclude each other");
    req.node_index = s.options.text("node-index");
    req.tmp_dir = s.options.text("tmp-dir");
    req.force = s.options.flag("force");
    req.quiet = s.quiet;
    if (wants_read_sample(s.options.text("read-sample"), req.input))
        req.read_sample = ExtractRequest::ReadSampling{sampling_options(s.options), placement_options(s.options)};
    s.state->reset_stages_from("extract");
    const auto result = run_extract(req);
    if (!s.quiet) print_extract_summary(result);
    s.state->finish_stage("extract", result.seconds, nlohmann::json{{"objects", result.stats.kept()}}.dump());
}

namespace {

// Refuses to go on with sources whose pixels are not those the plan was made with (a raster
// replaced, a URL edited in the same file): the images would mix two datasets.
void check_sources_unchanged(BuildSession& s) {
    const auto sources = configured_sources(s.options.text("sources"));
    const auto now = sources_identity(sources);
    const auto before = s.state->sources_identity();
    if (before.empty()) { // planned before identities were recorded
        s.state->store_sources_identity(now);
        return;
    }
    if (const auto why = sources_change(before, now, sources))
        throw std::runtime_error(s.out_dir + ": " + *why + " since OUT was planned, which would mix two datasets in one folder; use another -o, or remove " +
                                 s.state->path() + " to start over");
}

// Resume trusts the disk: before the first of fetch and write in a run (not again before the
// second: one stat per finished job is enough), finished jobs whose files are gone go back.
void restore_outputs_once(BuildSession& s, const char* stage) {
    if (s.outputs_checked) return;
    s.outputs_checked = true;
    const auto m = restore_missing_outputs(s.out_dir, *s.state);
    if (s.quiet || (m.images == 0 && m.meta == 0)) return;
    if (std::string_view(stage) == "fetch")
        std::printf("%s: %lld images and %lld meta files of finished jobs were missing on disk: made again\n", stage,
                    static_cast<long long>(m.images), static_cast<long long>(m.meta));
    else
        std::printf("%s: %lld images of finished jobs are missing on disk: run fetch (or the build again) to fetch them again\n", stage,
                    static_cast<long long>(m.images));
}

} // namespace

void stage_plan(BuildSession& s) {
    if (s.state->stage_finished("plan")) return;
    if (!fs::exists(s.catalog_path()))
        throw std::runtime_error(s.catalog_path() + ": no catalog; run `skyscript-build extract INPUT.osm.pbf -o " + s.out_dir + "` first");
    s.state->store_sources_identity(sources_identity(configured_sources(s.options.text("sources")))); // what this plan is made with
    const auto summary = run_plan(s.out_dir, s.options, *s.state, s.quiet);
    if (!s.quiet) print_plan_summary(summary);
    s.state->finish_stage("plan", summary.seconds,
                          nlohmann::json{{"jobs", summary.jobs}, {"sampled", summary.sampled}, {"candidates", summary.candidates}}.dump());
    if (summary.jobs == 0 && summary.shard.empty()) // a shard may own none of a small plan's objects
        throw std::runtime_error(s.out_dir + ": the plan has no job: no sampled object can be imaged by any source (see the skip reasons above)");
}

bool stage_fetch(BuildSession& s) {
    if (!s.state->stage_finished("plan")) throw std::runtime_error(s.out_dir + ": not planned yet; run `skyscript-build plan " + s.out_dir + "` first");
    check_sources_unchanged(s);
    restore_outputs_once(s, "fetch");
    const auto summary = run_fetch(s.out_dir, s.options, *s.state, s.quiet);
    if (!s.quiet) print_fetch_summary(summary);
    if (summary.remaining == 0)
        s.state->finish_stage("fetch", summary.seconds,
                              nlohmann::json{{"fetched", summary.fetched}, {"failed", summary.failed}, {"requests", summary.requests},
                                             {"reused", summary.reused}, {"reuse_unused", summary.reuse_unused}}.dump());
    return summary.remaining == 0;
}

std::int64_t stage_write(BuildSession& s) {
    restore_outputs_once(s, "write");
    const auto summary = run_write(s.out_dir, s.options, *s.state, s.quiet);
    if (!s.quiet) print_write_summary(summary, s.out_dir);
    s.state->finish_stage("write", summary.seconds, nlohmann::json{{"rows", summary.rows}}.dump());
    return summary.rows;
}

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
