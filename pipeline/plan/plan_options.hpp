#pragma once
// The plan stage's options, typed and checked once from the option table (option_table.hpp
// holds their ranges and help): what run_plan reads instead of option names.

#include "pipeline/common/build_options.hpp"
#include "pipeline/common/shard_spec.hpp"
#include "pipeline/plan/min_visible.hpp"
#include "pipeline/plan/source_choice.hpp"
#include "pipeline/sample/sampler.hpp"
#include "pipeline/tiles/tile_placement.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// The options a catalog sampled in the read was drawn with (stored in its meta as
// "sample NAME"): a plan must use the same.
inline constexpr OptionName read_sample_option_names[] = {"seed", "all-below", "cells", "rare-min", "point-tile-px", "max-px", "margin", "offset"};

struct PlanOptions {
    std::string tags;                 // --tags ("" = the built-in vocabulary)
    std::string sources;              // --sources ("" = the built-in list)
    SourcePolicy policy = SourcePolicy::finest;
    SamplingOptions sampling;
    PlacementOptions placement;
    std::int64_t part_size = 1000000; // --part-size: images per imagesK/
    int quality = 90;                 // --quality: part of each tile's identity
    std::optional<ShardSpec> shard;   // --shard i/N
    std::size_t max_surrounding = 5;  // --max-surrounding
    MinVisible min_visible;           // --min-visible-px
    std::string caption_style;        // --caption-style (a registered style)
    int threads = 0;                  // --threads: workers placing jobs (0: one per core this process may use)
    // The values a catalog sampled in the read must have been drawn with (read_sample_option_names).
    std::vector<std::pair<OptionName, std::string>> read_sample_values;
};

// Throws UsageError naming the option for a value the stage cannot use.
PlanOptions plan_options(const BuildOptions& options);

} // namespace skyscript::pipeline
