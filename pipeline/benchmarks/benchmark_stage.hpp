#pragma once
// `benchmarks OUT`: SkyScript's classification sets made from tags (docs/splits.md), one
// folder each under OUT/benchmarks/ as SkyScript's evaluation code reads them
// (test_zero_shot_classification.py: pd.read_csv, `filepath` joined to --root-data-dir,
// `label` looked up in classnames.txt):
//
//   SkyScript_cls/  (the 70 classes of set cls)   roof_shape/  smoothness/  surface/
//     img_txt_pairs_test.csv   filepath,label     (filepath relative to OUT, label a class name)
//     classnames.txt           every class of the set, one a line, in skyscript_classes.tsv order
//
// An image is labelled from its focus object's tags (the meta's center_tags) by
// tags::match_class; objects of several classes of one set are left out. Only images of
// the val and test splits are used (split_written_jobs: an object of those is never in
// train). --per-class N keeps at most N images a class (the N with the smallest seeded hash
// of their object and source; 0 = all). OUT/benchmarks/summary.json has the counts per class.

#include "pipeline/state/build_session.hpp"

#include <map>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct BenchmarkSummary {
    struct Set {
        std::string folder;
        std::vector<std::pair<std::string, std::int64_t>> classes; // name -> images kept
        std::int64_t rows = 0, capped = 0, ambiguous = 0;
    };
    std::vector<Set> sets;
    std::int64_t candidates = 0; // val + test images
    std::int64_t missing = 0;    // of those, images gone from disk (or not their written size) since the split: left out
    double seconds = 0;
};

BenchmarkSummary run_benchmarks(const std::string& out_dir, const BuildOptions& options, StateDb& state);
void print_benchmark_summary(const BenchmarkSummary& s, const std::string& out_dir);
// run_benchmarks on a session; its count is the rows of every set.
StageSummary stage_benchmarks(BuildSession& s);

} // namespace skyscript::pipeline
