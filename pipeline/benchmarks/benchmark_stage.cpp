#include "pipeline/benchmarks/benchmark_stage.hpp"

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/common/seeded_hash.hpp"
#include "imagery/json_depth.hpp"
#include "pipeline/dataset/csv_writer.hpp"
#include "pipeline/split/split_stage.hpp"
#include "tag_filters/class_sets.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <unordered_set>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// SkyScript's benchmark folder names for the sets of skyscript_classes.tsv.
std::string folder_of(const std::string& set) {
    static const std::map<std::string, std::string> names{
        {"cls", "SkyScript_cls"}, {"roof_shape", "roof_shape"}, {"road_smoothness", "smoothness"}, {"road_surface", "surface"}};
    const auto it = names.find(set);
    return it == names.end() ? set : it->second;
}

struct Labelled {
    std::string filepath;
    int label = 0;
    std::uint64_t order = 0; // who is kept under --per-class
    std::size_t index = 0;   // job order
    std::int64_t job_id = 0;
};

} // namespace

BenchmarkSummary run_benchmarks(const std::string& out_dir, const BuildOptions& options, StateDb& state) {
    const auto start = std::chrono::steady_clock::now();
    BenchmarkSummary summary;
    const auto per_class = options.integer("per-class");
    const auto seed = static_cast<std::uint64_t>(options.integer("seed"));
    const auto assignment = split_written_jobs(options, state);
    const auto& sets = tags::builtin_class_sets();
    std::vector<std::vector<Labelled>> found(sets.size());
    summary.sets.resize(sets.size());
    std::unordered_set<std::int64_t> held_out; // val and test jobs
    std::size_t i = 0;
    state.for_each_written([&](const Job& job) {
        const auto index = i++;
        if (assignment.split[index] == Split::train) return;
        ++summary.candidates;
        held_out.insert(job.job_id);
        // A tag that is no string (a state DB edited by hand) is no tag of a class.
        std::map<std::string, std::string> tags;
        if (const auto j = imagery::parse_json_within_depth(job.center_tags); j.is_object())
            for (const auto& [k, v] : j.items())
                if (v.is_string()) tags.emplace(k, v.get<std::string>());
        for (std::size_t s = 0; s < sets.size(); ++s) {
            const int c = tags::match_class(sets[s], tags);
            if (c == tags::several_classes) ++summary.sets[s].ambiguous;
            if (c < 0) continue;
            found[s].push_back({image_relative_path(job.part, job.stem), c,
                                seeded_hash(seed, label_hash("benchmark") ^ label_hash(job.source), object_key(job.osm_type, job.osm_id)),
                                index, job.job_id});
        }
    });
    // A benchmark row is a file a reader opens: a val or test image deleted or cut short since
    // the split (which checked the disk) is left out, and said, rather than listed.
    std::unordered_set<std::int64_t> gone;
    const BuildDir dir(out_dir);
    state.for_each_with_files([&](const JobFiles& f) {
        if (held_out.contains(f.job_id) && (f.stem.empty() || !placed_size(dir.image(f.part, f.stem), f.image_bytes)))
            gone.insert(f.job_id);
    });
    summary.missing = static_cast<std::int64_t>(gone.size());
    if (!gone.empty())
        for (auto& rows : found) std::erase_if(rows, [&](const Labelled& r) { return gone.contains(r.job_id); });
    nlohmann::ordered_json report = nlohmann::ordered_json::object();
    for (std::size_t s = 0; s < sets.size(); ++s) {
        auto& out = summary.sets[s];
        out.folder = folder_of(sets[s].name);
        auto& rows = found[s];
        if (per_class > 0) { // the per_class smallest hashes of each class, then back to job order
            std::stable_sort(rows.begin(), rows.end(), [](const Labelled& a, const Labelled& b) {
                return a.label != b.label ? a.label < b.label : a.order != b.order ? a.order < b.order : a.index < b.index;
            });
            std::vector<Labelled> kept;
            std::int64_t rank = 0;
            for (std::size_t r = 0; r < rows.size(); ++r) {
                rank = r > 0 && rows[r - 1].label == rows[r].label ? rank + 1 : 0;
                if (rank < per_class) kept.push_back(rows[r]);
                else ++out.capped;
            }
            std::sort(kept.begin(), kept.end(), [](const Labelled& a, const Labelled& b) { return a.index < b.index; });
            rows = std::move(kept);
        }
        const fs::path dir = BuildDir(out_dir).own_dir("benchmarks/" + out.folder);
        remove_partial_files(dir.string());
        std::vector<std::int64_t> counts(sets[s].classes.size(), 0);
        CsvWriter csv((dir / "img_txt_pairs_test.csv").string(), {"filepath", "label"});
        for (const auto& r : rows) {
            csv.row({r.filepath, sets[s].classes[static_cast<std::size_t>(r.label)].name});
            ++counts[static_cast<std::size_t>(r.label)];
        }
        std::string names;
        nlohmann::ordered_json per = nlohmann::ordered_json::object();
        for (std::size_t c = 0; c < counts.size(); ++c) {
            names += sets[s].classes[c].name + "\n";
            out.classes.emplace_back(sets[s].classes[c].name, counts[c]);
            per[sets[s].classes[c].name] = counts[c];
        }
        write_file_atomically((dir / "classnames.txt").string(), names);
        csv.commit();
        out.rows = csv.rows();
        report[out.folder] = {{"images", out.rows}, {"capped", out.capped}, {"ambiguous", out.ambiguous}, {"classes", per}};
    }
    write_file_atomically((fs::path(BuildDir(out_dir).benchmarks()) / "summary.json").string(), report.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

void print_benchmark_summary(const BenchmarkSummary& s, const std::string& out_dir) {
    std::printf("benchmarks: from %lld val/test images (%.2f s)\n", static_cast<long long>(s.candidates), s.seconds);
    for (const auto& set : s.sets) {
        std::printf("  %s/benchmarks/%s: %lld images", out_dir.c_str(), set.folder.c_str(), static_cast<long long>(set.rows));
        if (set.capped) std::printf(", %lld over --per-class", static_cast<long long>(set.capped));
        if (set.ambiguous) std::printf(", %lld of several classes left out", static_cast<long long>(set.ambiguous));
        std::printf("\n   ");
        int shown = 0;
        for (const auto& [name, n] : set.classes)
            if (n > 0) std::printf("%s %s: %lld", shown++ ? "," : "", name.c_str(), static_cast<long long>(n));
        std::printf("%s\n", shown ? "" : " no class found");
    }
}

StageSummary stage_benchmarks(BuildSession& s) {
    // Its images are the val/test of the split the CSVs were made by: only a finished split says which.
    if (!s.state->stage_finished("split"))
        throw std::runtime_error(s.out_dir + ": the split is not finished (never run, stopped, or asked other options since); run `skyscript-build split " +
                                 s.out_dir + "` first: benchmarks take their images from its val and test");
    const auto summary = run_benchmarks(s.out_dir, s.options, *s.state);
    if (!s.quiet) print_benchmark_summary(summary, s.out_dir);
    if (summary.missing) // what the sets leave out: a warning, on stderr whatever -q says (as the other stages')
        std::fprintf(stderr, "benchmarks: %lld val/test images are missing on disk (or not the size they were written at): left out; run fetch (or the build "
                             "again) to fetch them, then split and benchmarks\n",
                     static_cast<long long>(summary.missing));
    std::int64_t rows = 0;
    nlohmann::json sets = nlohmann::json::object();
    for (const auto& set : summary.sets) rows += set.rows, sets[set.folder] = set.rows;
    return StageSummary::finished(summary.seconds, nlohmann::json{{"candidates", summary.candidates}, {"missing", summary.missing}, {"rows", sets}}.dump(), rows);
}

} // namespace skyscript::pipeline
