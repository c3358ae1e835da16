#include "pipeline/cli/stage_table.hpp"

#include "pipeline/benchmarks/benchmark_stage.hpp"
#include "pipeline/catalog/extract_stage.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/option_refused.hpp"
#include "pipeline/dataset/write_stage.hpp"
#include "pipeline/fetch/fetch_stage.hpp"
#include "pipeline/plan/plan_stage.hpp"
#include "pipeline/polish/polish_stage.hpp"
#include "pipeline/report/report_stage.hpp"
#include "pipeline/split/split_stage.hpp"

#include <cstdio>
#include <filesystem>
#include <iterator>
#include <stdexcept>

namespace skyscript::pipeline {

namespace {

constexpr const char* split_usage =
    "Usage: skyscript-build split OUT [options]\n\n"
    "Splits the written images of the build in OUT by spatial block (--split-block degrees of\n"
    "the box centre): SkyScript_train_unfiltered.csv, SkyScript_val.csv, SkyScript_test.csv;\n"
    "with --scores FILE[,NAME] also the top-P% files with similarity_NAME; with --format\n"
    "webdataset|both tar shards in OUT/webdataset/{train,val,test}/; with --format coco the CSVs\n"
    "and OUT/annotations_{train,val,test}.json (COCO: boxes, polygons, captions). Sizes: a count, P% or auto\n"
    "(min(5000, 2%) val, min(30000, 10%) test, the shares rounded up; P% rounds to nearest).\n";

constexpr const char* polish_usage =
    "Usage: skyscript-build polish OUT --llm-endpoint URL --llm-model NAME [options]\n\n"
    "Rewrites every written image's title and title_multi_objects into fluent English with a language\n"
    "model behind an OpenAI-compatible chat-completions API (OpenAI, vLLM, llama.cpp, Ollama), one request\n"
    "per distinct input, answers cached in OUT/polish_answers.sqlite (a rerun asks only for new inputs;\n"
    "--reuse OLD_OUT takes its answers too). Each answer is checked against the image's tags (the main\n"
    "feature named, no number or feature word the tags do not hold, a sane length) and asked again once\n"
    "with the reason; a second failure keeps the natural caption. Results: columns title_polished and\n"
    "title_multi_objects_polished in the CSVs, meta.jsonl and the pickles, SkyScript_*_language_polished.csv\n"
    "(after `split`; on a build already split, polish makes the split and the report again once it changed a\n"
    "caption). A request that fails for good keeps the caption an earlier run polished, if any.\n"
    "The API key is read from $OPENAI_API_KEY (--llm-key-env NAME) and never written.\n"
    "In the bare command, --polish runs this stage after write. docs/captions.md has the prompt and the check.\n";

constexpr const char* benchmarks_usage =
    "Usage: skyscript-build benchmarks OUT [options]\n\n"
    "Writes OUT/benchmarks/{SkyScript_cls,roof_shape,smoothness,surface}/ with\n"
    "img_txt_pairs_test.csv (filepath,label) and classnames.txt, from the val and test images\n"
    "(the split's options apply), labelled from their focus object's tags; --per-class N caps a class.\n";

constexpr Stage table[]{
    {"extract", stage_extract},
    {"plan", stage_plan},
    {"fetch", stage_fetch},
    {"write", stage_write, nullptr, true, true},
    {"polish", stage_polish, polish_usage},
    {"split", stage_split, split_usage, true},
    {"report", stage_report},
    {"benchmarks", stage_benchmarks, benchmarks_usage},
};

// The table follows stage_list: its stages, in its order, and every bare-command stage.
constexpr bool follows_stage_list() {
    std::size_t i = 0;
    for (const auto& info : stage_list) {
        if (i < std::size(table) && table[i].name.view() == info.name) ++i;
        else if (info.in_bare_command) return false;
    }
    return i == std::size(table);
}
static_assert(follows_stage_list(), "stage_table.cpp: the stages must be stage_list's, in its order, every bare-command stage among them");

} // namespace

std::span<const Stage> stage_table() { return table; }

const Stage& find_stage(StageName name) {
    for (const auto& s : table)
        if (s.name.view() == name.view()) return s;
    throw std::logic_error("no stage entry named " + std::string(name.view()));
}

bool in_bare_command(const Stage& stage) { return stage_list[stage.name.rank()].in_bare_command; }

bool split_made(const BuildSession& session) {
    return session.state->stage_finished("split") || BuildDir(session.out_dir).split_outputs_present();
}

bool shard_without_imagery(BuildSession& session) {
    return !session.options.text("shard").empty() && session.state->count_by_status()["failed"] == session.state->failed_for_want_of_imagery();
}

void warn_shard_without_imagery(const BuildSession& session) {
    std::fprintf(stderr, "skyscript-build: warning: %s: this shard has no image: no eligible source has imagery for its jobs (report.html); "
                         "`merge` says whether any shard did\n",
                 session.out_dir.c_str());
}

StageSummary run_polish_keeping_split(BuildSession& session, bool split_before) {
    try {
        return run_recorded(session, "polish", stage_polish);
    } catch (const OptionRefused&) {
        throw; // refused before any work: the split's record was put back
    } catch (const std::exception&) {
        // "Every request failed" after answers from the cache or --reuse had changed captions
        // (red-team round 36: meta.jsonl and the pickles held them, the CSVs and the report not).
        if (split_before && session.state && !session.state->stage_finished("split")) {
            try {
                if (run_recorded(session, "split", stage_split).complete) run_recorded(session, "report", stage_report);
            } catch (const std::exception&) { // the polish's error is the one to read
            }
        }
        throw;
    }
}

int run_stage_command(const Stage& stage, const std::vector<std::string>& args) {
    const std::string name(stage.name.view());
    const CliArgs cli{args, build_option_specs()};
    if (cli.flag("help")) {
        if (stage.usage) std::fputs(stage.usage, stdout);
        else
            std::printf("Usage: skyscript-build %s OUT [options]\n\nRuns the %s stage on the build in folder OUT, with the options OUT "
                        "recorded (flags override them where that changes no finished work).\n",
                        name.c_str(), name.c_str());
        std::fputs(build_options_help(false).c_str(), stdout); // -o is the bare command's: a stage takes OUT as its argument
        return 0;
    }
    if (cli.positional().size() != 1) throw UsageError(name + " takes one OUT folder");
    if (cli.value("output")) throw UsageError(name + " works on the OUT folder given as its argument; -o is for the bare command");
    auto session = open_build_session(cli, cli.positional()[0], "", stage.name.view());
    // The stages that work on the plan's jobs (the report describes whatever OUT holds); a
    // merge's jobs are its shards' plans, recorded as a plan only when every shard is there.
    if (stage.name.rank() > stage_rank("plan") && name != "report" && !session.state->stage_finished("plan") && !session.state->stage_finished("merge"))
        throw std::runtime_error(session.out_dir + ": not planned yet; run `skyscript-build plan " + session.out_dir + "` first");
    // A split made before, finished or not: a polish stopped after it forgot the split (its
    // captions changed) left the split unfinished, and its rerun then made no split again
    // (red-team round 34: CSVs without the polished captions, exit 0).
    const bool split_before = name == "polish" && split_made(session);
    const auto summary = name == "polish" ? run_polish_keeping_split(session, split_before) : run_recorded(session, stage.name, stage.run);
    // Nothing to wait for when no job is planned or fetched: every one failed (red-team round 39:
    // "no job has an image yet" sent a script to wait). The fetch that leaves a build so says
    // it too, as the bare command and merge do, unless it is a shard without imagery.
    auto counts = session.state->count_by_status();
    const bool all_failed = counts["planned"] + counts["fetched"] + counts["written"] == 0 && counts["failed"] > 0;
    const auto all_failed_line = [&](const std::string& what) {
        std::fprintf(stderr, "skyscript-build: error: %s: %s: every job failed (see `skyscript-build report %s`; `skyscript-build fetch %s --retry-failed` asks them again)\n",
                     session.out_dir.c_str(), what.c_str(), session.out_dir.c_str(), session.out_dir.c_str());
        return 1;
    };
    if (all_failed && (name == "fetch" || (stage.zero_fails && summary.count == 0)) && shard_without_imagery(session)) {
        warn_shard_without_imagery(session);
        return 0;
    }
    if (name == "fetch" && all_failed) return all_failed_line("fetch got no image");
    if (stage.zero_fails && summary.count == 0) {
        if (all_failed) return all_failed_line(name + " made nothing");
        std::fprintf(stderr, "skyscript-build: error: %s: %s made nothing: no job has an image%s yet (see `skyscript-build status %s`)\n",
                     session.out_dir.c_str(), name.c_str(), name == "write" ? "" : " and meta file", session.out_dir.c_str());
        return 1;
    }
    // The dataset card (README.md, croissant.json: the CSVs' rows and digests, the formats'
    // folders) and the report describe the splits: made again when the build has them, so a
    // split rerun with other options leaves none of them naming files it replaced.
    if (name == "split" && summary.complete && std::filesystem::exists(BuildDir(session.out_dir).report_json()))
        return run_recorded(session, "report", stage_report).complete ? 0 : 1;
    // A polish that changed captions of a split build (it forgets the split then): the CSVs,
    // the language-polished ones, the card and the report are made again, as the bare command
    // does, instead of holding other captions than meta.jsonl and the pickles.
    if (name == "polish" && split_before && !session.state->stage_finished("split")) {
        const bool split = run_recorded(session, "split", stage_split).complete;
        const bool report = run_recorded(session, "report", stage_report).complete;
        return summary.complete && split && report ? 0 : 1;
    }
    // A polish that changed no caption still changed what the report says of it (its stage
    // table, its counts, a polish no longer owed): the report is made again where there is one.
    if (name == "polish" && std::filesystem::exists(BuildDir(session.out_dir).report_json()))
        return run_recorded(session, "report", stage_report).complete && summary.complete ? 0 : 1;
    return summary.complete ? 0 : 1;
}

} // namespace skyscript::pipeline
