#pragma once
// The fetch stage's options, typed and checked once from the option table (option_table.hpp
// holds their ranges and help): what run_fetch reads instead of option names.

#include "imagery/image_source.hpp"
#include "pipeline/common/build_options.hpp"
#include "pipeline/plan/plan_options.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct FetchOptions {
    std::string sources;                 // --sources ("" = the built-in list)
    double min_valid = 0.9;              // --min-valid
    int quality = 90;                    // --quality (JPEG)
    imagery::ImageSourceOptions source;  // --in-flight, --timeout, --attempts, --workers
    std::size_t batch = 0;               // --batch, 0 resolved: jobs per batch
    std::vector<std::string> reuse;      // --reuse OLD_OUT, each given
    bool retry_failed = false;           // --retry-failed
    PlanOptions plan;                    // a job moving to its next source is placed and captioned by these (source_fallback.hpp)
};

// Throws UsageError naming the option for a value the stage cannot use.
FetchOptions fetch_options(const BuildOptions& options);

} // namespace skyscript::pipeline
