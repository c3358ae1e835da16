#include "pipeline/split/split_stage.hpp"

#include "captions/caption_styles.hpp"

#include "pipeline/split/csv_writer.hpp"
#include "pipeline/common/dataset_layout.hpp"
#include "pipeline/dataset/meta_record.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/split/score_file.hpp"
#include "pipeline/split/split_options.hpp"
#include "pipeline/common/seeded_hash.hpp"
#include "pipeline/dataset/webdataset_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

const char* const split_names[3] = {"train", "val", "test"};
const char* const split_files[3] = {"SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv"};

SplitInput split_input(const Job& job) {
    const auto& b = job.grid.box;
    double lon = (b.west + b.east) / 2;
    if (b.west > b.east) { // across the antimeridian
        lon = (b.west + b.east + 360) / 2;
        if (lon >= 180) lon -= 360;
    }
    return {lon, (b.south + b.north) / 2, object_key(job.osm_type, job.osm_id)};
}

std::string read_binary(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read the image for the webdataset shard");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

SplitAssignment split_written_jobs(const BuildOptions& options, StateDb& state) {
    std::vector<SplitInput> inputs;
    state.for_each_written([&](const Job& job) { inputs.push_back(split_input(job)); });
    check_split_options(options);
    const double block = options.number("split-block");
    const auto n = static_cast<std::int64_t>(inputs.size());
    const auto val = split_size(options.text("val-size"), n, 5000, 0.02, "val-size");
    const auto test = split_size(options.text("test-size"), n, 30000, 0.10, "test-size");
    return assign_splits(inputs, block, static_cast<std::uint64_t>(options.integer("seed")), val, test);
}

SplitSummary run_split(const std::string& out_dir, const BuildOptions& options, StateDb& state, bool quiet) {
    const auto start = std::chrono::steady_clock::now();
    SplitSummary summary;
    const auto format = options.text("format");
    const bool files = format != "webdataset", shards = format != "files";
    const auto [max_samples, max_bytes] = shard_bounds(options.text("shard-size"));
    const auto pcts = top_percentages(options.text("top-pct"));
    summary.assignment = split_written_jobs(options, state);
    summary.block_text = options.text("split-block");
    const auto& split = summary.assignment.split;

    // Scores, per image in job order.
    std::unique_ptr<ScoreFile> scores;
    std::vector<const Score*> score_of;
    if (const auto spec = options.text("scores"); !spec.empty()) {
        scores = std::make_unique<ScoreFile>(read_score_file(spec));
        summary.scores_name = scores->name;
        summary.score_rows = static_cast<std::int64_t>(scores->by_filepath.size());
        state.for_each_written([&](const Job& job) {
            auto it = scores->by_filepath.find(image_relative_path(job.part, job.stem));
            if (it == scores->by_filepath.end()) {
                score_of.push_back(nullptr);
                ++summary.images_unscored;
            } else {
                it->second.used = true;
                score_of.push_back(&it->second);
            }
        });
        for (const auto& [path, s] : scores->by_filepath) summary.scores_unknown += !s.used;
    }
    // Top P% of the scored train images: a bit per percentage, and the first one's threshold for val/test.
    std::vector<std::uint8_t> top_bits(scores ? split.size() : 0, 0);
    const Score* val_test_threshold = nullptr;
    if (scores) {
        std::vector<std::size_t> ranked;
        for (std::size_t i = 0; i < split.size(); ++i)
            if (split[i] == Split::train && score_of[i]) ranked.push_back(i);
        std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) { return score_of[a]->value > score_of[b]->value; });
        for (std::size_t p = 0; p < pcts.size(); ++p) {
            const auto k = static_cast<std::size_t>(std::llround(static_cast<double>(ranked.size()) * pcts[p] / 100.0));
            for (std::size_t r = 0; r < k; ++r) top_bits[ranked[r]] |= static_cast<std::uint8_t>(1u << p);
            if (p == 0 && k > 0) val_test_threshold = score_of[ranked[k - 1]];
        }
    }

    const auto caption_fields = captions::CaptionStyles::fields(options.text("caption-style"));
    std::vector<std::string> header{"filepath"};
    header.insert(header.end(), caption_fields.begin(), caption_fields.end());
    auto scored_header = header;
    if (scores) scored_header.push_back("similarity_" + scores->name);
    const auto path_of = [&](const std::string& name) { return (fs::path(out_dir) / name).string(); };
    std::vector<std::unique_ptr<CsvWriter>> csvs;        // train, val, test
    std::vector<std::unique_ptr<CsvWriter>> top_csvs;    // one per percentage
    std::unique_ptr<CsvWriter> scored_csvs[3];           // val, test filtered (train unused)
    if (files) {
        for (const char* f : split_files) csvs.push_back(std::make_unique<CsvWriter>(path_of(f), header));
        if (scores) {
            for (int p : pcts)
                top_csvs.push_back(std::make_unique<CsvWriter>(
                    path_of("SkyScript_train_top" + std::to_string(p) + "pct_filtered_by_" + scores->name + ".csv"), scored_header));
            for (int s : {1, 2})
                scored_csvs[s] = std::make_unique<CsvWriter>(
                    path_of(std::string("SkyScript_") + split_names[s] + "_filtered_by_" + scores->name + ".csv"), scored_header);
        }
    }
    std::vector<std::unique_ptr<WebDatasetWriter>> tars;
    if (shards)
        for (const char* s : split_names)
            tars.push_back(std::make_unique<WebDatasetWriter>((fs::path(out_dir) / "webdataset" / s).string(), max_samples, max_bytes));

    Progress progress{"split", quiet, Progress::Unit::counted};
    std::size_t i = 0;
    std::vector<std::string> row;
    state.for_each_written([&](const Job& job) {
        const auto s = static_cast<int>(split[i]);
        const auto filepath = image_relative_path(job.part, job.stem);
        if (files) {
            row = {filepath};
            for (const auto field : caption_fields) row.push_back(job.caption(field));
            csvs[s]->row(row);
            if (scores && score_of[i]) {
                row.push_back(score_of[i]->text);
                for (std::size_t p = 0; p < pcts.size(); ++p)
                    if (top_bits[i] & (1u << p)) top_csvs[p]->row(row);
                if (s != 0 && val_test_threshold && score_of[i]->value >= val_test_threshold->value) scored_csvs[s]->row(row);
            }
        }
        if (shards) {
            const auto jpg = read_binary((fs::path(out_dir) / filepath).string());
            auto json = meta_json_line(job);
            json.pop_back(); // the newline
            tars[s]->add(job.stem, {{"jpg", jpg}, {"txt", job.caption(caption_fields[0])}, {"json", json}});
        }
        ++i;
        if (i % 1000 == 0) progress.update(i, split.size(), i, "images");
    });
    progress.finish();

    std::set<std::string> written;
    const auto commit = [&](CsvWriter& w, const std::string& name) {
        w.commit();
        summary.files.emplace_back(name, w.rows());
        written.insert(name);
    };
    if (files) {
        for (int s = 0; s < 3; ++s) commit(*csvs[s], split_files[s]);
        for (std::size_t p = 0; p < top_csvs.size(); ++p)
            commit(*top_csvs[p], "SkyScript_train_top" + std::to_string(pcts[p]) + "pct_filtered_by_" + scores->name + ".csv");
        for (int s : {1, 2})
            if (scored_csvs[s]) commit(*scored_csvs[s], std::string("SkyScript_") + split_names[s] + "_filtered_by_" + scores->name + ".csv");
    }
    for (auto& t : tars) {
        t->finish();
        summary.shards += static_cast<std::int64_t>(t->shards().size());
    }
    // An earlier run's split files that this run did not write (another scores NAME, another --format), and
    // the temporary files of a killed one.
    std::error_code ec;
    if (!shards) fs::remove_all(fs::path(out_dir) / "webdataset", ec);
    for (const auto& f : fs::directory_iterator(out_dir, ec)) {
        const auto name = f.path().filename().string();
        if (name.starts_with("SkyScript_") && ((name.ends_with(".csv") && !written.count(name)) || name.find(".csv.partial-") != std::string::npos))
            fs::remove(f.path(), ec);
    }
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

void print_split_summary(const SplitSummary& s, const std::string& out_dir) {
    const auto& a = s.assignment;
    std::printf("split: %lld train, %lld val (asked %lld), %lld test (asked %lld) images in %lld blocks (%lld groups) (%.2f s)\n",
                static_cast<long long>(a.count[0]), static_cast<long long>(a.count[1]), static_cast<long long>(a.asked_val),
                static_cast<long long>(a.count[2]), static_cast<long long>(a.asked_test), static_cast<long long>(a.blocks),
                static_cast<long long>(a.groups), s.seconds);
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

std::int64_t stage_split(BuildSession& s) {
    const auto summary = run_split(s.out_dir, s.options, *s.state, s.quiet);
    if (!s.quiet) print_split_summary(summary, s.out_dir);
    const auto& c = summary.assignment.count;
    s.state->finish_stage("split", summary.seconds,
                          nlohmann::json{{"train", c[0]}, {"val", c[1]}, {"test", c[2]}, {"scores_unknown", summary.scores_unknown},
                                         {"images_unscored", summary.images_unscored}}
                              .dump());
    return c[0] + c[1] + c[2];
}

} // namespace skyscript::pipeline
