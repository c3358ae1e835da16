#pragma once
// The split stage's option values, parsed in one place: checked when a build session opens
// (before OUT records them, so a bad value fails at once, not after hours of fetching, and
// is not kept for the next run), and read by the split and benchmarks stages.

#include "pipeline/common/build_options.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// Throws UsageError naming the first bad option among split-block, val-size, test-size,
// scores (its NAME), top-pct, format (and the formats' own options: shard-size), per-class.
void check_split_options(const BuildOptions& options);

// --top-pct "30,50" -> {30, 50}.
std::vector<int> top_percentages(const std::string& spec);
// --scores FILE[,NAME] -> {FILE, NAME}; NAME defaults to FILE's name without extension.
std::pair<std::string, std::string> scores_file_and_name(const std::string& spec);

} // namespace skyscript::pipeline
