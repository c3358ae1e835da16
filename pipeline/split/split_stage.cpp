#include "pipeline/split/split_stage.hpp"

#include "captions/caption_styles.hpp"
#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/option_refused.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/seeded_hash.hpp"
#include "pipeline/dataset/sample_formats.hpp"
#include "pipeline/dataset/write_stage.hpp"
#include "pipeline/fetch/disk_check.hpp"
#include "pipeline/split/score_file.hpp"
#include "pipeline/split/split_options.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace skyscript::pipeline {

namespace {

SplitInput split_input(const Job& job) {
    const auto& b = job.grid.box;
    return {b.center_lon(), (b.south + b.north) / 2, object_key(job.osm_type, job.osm_id)};
}

} // namespace

SplitAssignment split_written_jobs(const BuildOptions& options, StateDb& state) {
    std::vector<SplitInput> inputs;
    state.for_each_written([&](const Job& job) { inputs.push_back(split_input(job)); });
    check_split_options(options);
    const auto n = static_cast<std::int64_t>(inputs.size());
    const auto val = split_size(options.text("val-size"), n, 5000, 0.02, "val-size");
    const auto test = split_size(options.text("test-size"), n, 30000, 0.10, "test-size");
    // A count is held to the images here (shares were at check_split_options): 300 and 300 of
    // 232 images split every one to val and test and none to train, with exit 0.
    const auto is_count = [](const std::string& spec) { return spec != "auto" && !spec.ends_with('%'); };
    // Not in a --shard worker: its counts are the whole dataset's, which merge splits again.
    if (n > 0 && val + test >= n && options.text("shard").empty() && (is_count(options.text("val-size")) || is_count(options.text("test-size"))))
        throw OptionRefused("--val-size " + options.text("val-size") + " and --test-size " + options.text("test-size") + " ask for " +
                            std::to_string(val + test) + " images, and the build has " + std::to_string(n) +
                            " written: the training split would have none; give smaller counts or shares (e.g. 2%, 10%)");
    const auto seed = static_cast<std::uint64_t>(options.integer("seed"));
    if (options.text("split-block") == "auto") return assign_splits_auto(inputs, seed, val, test);
    return assign_splits(inputs, options.number("split-block"), seed, val, test);
}

std::vector<std::size_t> ranked_training_images(const std::vector<Split>& split, const std::vector<const Score*>& score_of, const std::string& scores_path) {
    std::vector<std::size_t> ranked;
    for (std::size_t i = 0; i < split.size(); ++i)
        if (split[i] == Split::train && score_of[i]) ranked.push_back(i);
    // Scores of val and test images only would leave every top-P% file empty, and val/test
    // without a threshold: refused before anything is written, as a file naming no image is.
    if (ranked.empty() && std::find(split.begin(), split.end(), Split::train) != split.end()) {
        const auto scored = std::count_if(score_of.begin(), score_of.end(), [](const Score* s) { return s != nullptr; });
        throw std::runtime_error(scores_path + ": its " + std::to_string(scored) +
                                 " rows that name an image of this build name none of the training split (only val and test images); "
                                 "the top-P% files are ranked on training images");
    }
    std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) { return score_of[a]->value > score_of[b]->value; });
    return ranked;
}

void check_new_scores(const BuildOptions& options, StateDb& state) {
    auto file = read_score_file(options.text("scores"));
    const auto score_of = scores_of_written(file, state);
    if (!score_of.empty()) (void)ranked_training_images(split_written_jobs(options, state).split, score_of, file.path);
}

SplitSummary run_split(const std::string& out_dir, const BuildOptions& options, StateDb& state, bool quiet) {
    const auto start = std::chrono::steady_clock::now();
    SplitSummary summary;
    remove_partial_files(out_dir); // any format's, left by a killed split (the build's lock is held: none is being written)
    const auto formats = formats_named(options.text("format"));
    const auto pcts = top_percentages(options.text("top-pct"));
    summary.assignment = split_written_jobs(options, state);
    char block[32];
    std::snprintf(block, sizeof block, "%g", summary.assignment.block_deg);
    summary.block_auto = options.text("split-block") == "auto";
    summary.block_text = summary.block_auto ? std::string(block) : options.text("split-block");
    const auto& split = summary.assignment.split;

    // Scores, per image in job order.
    std::unique_ptr<ScoreFile> scores;
    std::vector<const Score*> score_of;
    if (const auto spec = options.text("scores"); !spec.empty()) {
        scores = std::make_unique<ScoreFile>(read_score_file(spec));
        summary.scores_name = scores->name;
        summary.score_rows = static_cast<std::int64_t>(scores->by_filepath.size());
        score_of = scores_of_written(*scores, state);
        for (const auto* s : score_of) summary.images_unscored += !s;
        for (const auto& [path, s] : scores->by_filepath) summary.scores_unknown += !s.used;
    }
    // Top P% of the scored train images: a bit per percentage, and the first one's threshold for val/test.
    std::vector<std::uint8_t> top_bits(scores ? split.size() : 0, 0);
    const Score* val_test_threshold = nullptr;
    if (scores) {
        const auto ranked = ranked_training_images(split, score_of, scores->path);
        for (std::size_t p = 0; p < pcts.size(); ++p) {
            const auto k = static_cast<std::size_t>(std::llround(static_cast<double>(ranked.size()) * pcts[p] / 100.0));
            for (std::size_t r = 0; r < k; ++r) top_bits[ranked[r]] |= static_cast<std::uint8_t>(1u << p);
            if (p == 0 && k > 0) val_test_threshold = score_of[ranked[k - 1]];
        }
    }

    // Every image goes to each format --format picks; the others' files of an earlier run go.
    SampleWriterSetup setup{out_dir, options, {}, scores ? scores->name : "", scores ? pcts : std::vector<int>{}};
    for (const auto field : captions::CaptionStyles::fields(options.text("caption-style"))) setup.caption_fields.emplace_back(field);
    // A build that polishes (--polish, recorded in OUT) has the polished columns too.
    if (options.flag("polish"))
        for (const auto field : captions::polished_caption_fields()) setup.caption_fields.emplace_back(field);
    std::vector<std::unique_ptr<SampleWriter>> writers;
    for (const auto* format : formats) writers.push_back(format->begin(setup));

    Progress progress{"split", quiet, Progress::Unit::counted};
    std::size_t i = 0;
    state.for_each_written([&](const Job& job) {
        const auto filepath = image_relative_path(job.part, job.stem);
        Sample sample{job, filepath, static_cast<int>(split[i])};
        if (scores && score_of[i]) {
            sample.score = &score_of[i]->text;
            sample.top_bits = top_bits[i];
            sample.above_threshold = val_test_threshold && score_of[i]->value >= val_test_threshold->value;
        }
        for (auto& w : writers) w->write(sample);
        ++i;
        if (i % 1000 == 0) progress.update(i, split.size(), i, "images");
    });
    progress.finish();

    WrittenSamples written;
    for (auto& w : writers) w->finish(written);
    for (const auto* format : sample_formats())
        if (std::find(formats.begin(), formats.end(), format) == formats.end()) format->remove(out_dir);
    summary.files = std::move(written.files);
    summary.shards = written.shards;
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

void print_split_summary(const SplitSummary& s, const std::string& out_dir) {
    const auto& a = s.assignment;
    std::printf("split: %lld train, %lld val (asked %lld), %lld test (asked %lld) images in %lld blocks of %s degrees%s (%lld groups) (%.2f s)\n",
                static_cast<long long>(a.count[0]), static_cast<long long>(a.count[1]), static_cast<long long>(a.asked_val),
                static_cast<long long>(a.count[2]), static_cast<long long>(a.asked_test), static_cast<long long>(a.blocks), s.block_text.c_str(),
                s.block_auto ? " (--split-block auto)" : "", static_cast<long long>(a.groups), s.seconds);
    if (a.count[1] * 2 < a.asked_val || a.count[2] * 2 < a.asked_test)
        std::printf("  val/test are well short of the asked sizes: the images fall in %lld blocks of --split-block %s degrees; a smaller "
                    "--split-block makes more, smaller blocks\n",
                    static_cast<long long>(a.blocks), s.block_text.c_str());
    for (const auto& [name, rows] : s.files) std::printf("  %s/%s: %lld rows\n", out_dir.c_str(), name.c_str(), static_cast<long long>(rows));
    if (!s.scores_name.empty())
        std::printf("  scores %s: %lld rows, %lld name no written image, %lld images have no score\n", s.scores_name.c_str(),
                    static_cast<long long>(s.score_rows), static_cast<long long>(s.scores_unknown), static_cast<long long>(s.images_unscored));
    if (s.shards) std::printf("  %s/webdataset/{train,val,test}: %lld shards\n", out_dir.c_str(), static_cast<long long>(s.shards));
}

StageSummary stage_split(BuildSession& s) {
    // The images it packs and lists are the ones on disk: a written job whose image went, or
    // was cut short, goes back to be fetched again (and says so) instead of reaching a CSV
    // row or a shard as a missing or broken file.
    restore_outputs_once(s, "split");
    // Nothing left to list (every image gone, a state DB of another build put in its place):
    // the split's files are not replaced by empty ones (red-team round 42: 41 images on disk,
    // every CSV, shard and annotation file emptied, then "split made nothing", exit 1).
    // A build whose every job failed splits to nothing, as it truly has (a shard without imagery, rerun).
    if (auto counts = s.state->count_by_status(); counts["written"] == 0 && counts["planned"] + counts["fetched"] > 0 && BuildDir(s.out_dir).split_outputs_present())
        throw std::runtime_error(s.out_dir + ": no job has an image and meta file, so the split would list none: its files are kept as they are (see `skyscript-build status " +
                                 s.out_dir + "`)");
    // A polish run stopped part way left meta.jsonl as the run before it wrote it, while the
    // state DB and the pickles hold the captions it changed: the CSVs are made from the state
    // DB, so meta.jsonl is made again from it first, and the polish still owed is said
    // (red-team round 41: 48 images whose meta.jsonl caption was another model's, "finished").
    if (s.options.flag("polish") && !s.state->stage_finished("polish") && s.state->polish_started()) {
        write_meta_jsonl(s.out_dir, *s.state);
        std::fprintf(stderr,
                     "skyscript-build: warning: %s: the polish has not finished (a run stopped or failed part way): some captions are not yet "
                     "the ones --llm-model and --llm-prompt ask for; `skyscript-build polish %s` finishes it\n",
                     s.out_dir.c_str(), s.out_dir.c_str());
    }
    const auto summary = run_split(s.out_dir, s.options, *s.state, s.quiet);
    if (!s.quiet) print_split_summary(summary, s.out_dir);
    // The benchmarks hold the val and test images of the split they were made from: left as
    // they were, an image this split puts in train would stay a benchmark's test image.
    const auto benchmarks = BuildDir(s.out_dir).benchmarks();
    if (std::error_code ec; std::filesystem::symlink_status(benchmarks, ec).type() != std::filesystem::file_type::not_found) {
        std::filesystem::remove_all(benchmarks, ec);
        s.state->unfinish_stage("benchmarks");
        if (ec) throw std::runtime_error(benchmarks + ": cannot remove the benchmarks of the earlier split (" + ec.message() + ")");
        if (!s.quiet) std::printf("  %s removed: made from the earlier split; `skyscript-build benchmarks %s` makes them from this one\n", benchmarks.c_str(),
                    s.out_dir.c_str());
    }
    const auto& c = summary.assignment.count;
    return StageSummary::finished(summary.seconds,
                                  nlohmann::json{{"train", c[0]}, {"val", c[1]}, {"test", c[2]}, {"block", summary.assignment.block_deg},
                                                 {"scores_unknown", summary.scores_unknown},
                                                 {"images_unscored", summary.images_unscored}}
                                      .dump(),
                                  c[0] + c[1] + c[2]);
}

} // namespace skyscript::pipeline
