#pragma once
// The extract stage (PBF → OUT/catalog.gpkg) as a function, for the `extract` subcommand and the full run.

#include "osm/catalog_row.hpp"
#include "osm/extract_stats.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/sample/sampler.hpp"
#include "pipeline/state/build_session.hpp"
#include "pipeline/tiles/tile_placement.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct ExtractRequest {
    std::string input;
    std::string out_dir = "out";
    std::string tags;              // "", FILE or +FILE
    std::string hidden;            // "", FILE or +FILE: rules of objects not visible from above
    std::optional<osm::Box> bbox;
    std::string polygon;
    std::string node_index = "auto";
    std::string tmp_dir;           // file-backed node index; "" = out_dir
    int threads = 0;               // pass 2's way threads (osm::ExtractOptions::threads); 0 = one per core
    bool force = false;            // go on when the pre-flight check says the run cannot fit
    // Sampling in the read (pipeline/sample/read_sample.hpp): a first read draws the cells
    // and rare tags, the second keeps what those objects' tiles need. Unset: full catalog.
    struct ReadSampling {
        SamplingOptions sampling;
        PlacementOptions placement;
        double coarsest_source_gsd = 0; // of the sources the plan will use: top-class tags' tiles reach it
    };
    std::optional<ReadSampling> read_sample;
    bool quiet = false;
};

struct ExtractResult {
    osm::ExtractStats stats;
    // Sampling in the read: candidates of the input, cells drawn of the non-empty ones,
    // focus candidates left for the planner (rare-tag ones among them).
    bool sampled_in_read = false;
    std::int64_t candidates = 0, cells_total = 0, cells_chosen = 0, focus = 0, rare_added = 0, cells_reached = 0;
    std::string catalog_path;
    std::string hidden_rules; // the hidden-object rules' file(s), as the summary names them
    double seconds = 0;
};

ExtractRequest parse_extract_args(const CliArgs& cli);
const std::vector<OptionSpec>& extract_option_specs();
// UsageError unless `name` is one of the indexes `extract --help` lists.
void check_node_index(const std::string& name);
// --read-sample auto|on|off for this input: whether to sample in the read.
bool wants_read_sample(const std::string& mode, const std::string& input);
inline constexpr std::uint64_t read_sample_bytes = 1ULL << 30; // auto samples in the read from this input size
ExtractResult run_extract(const ExtractRequest& req);
void print_extract_summary(const ExtractResult& result);

// The bare command's extract: skipped when OUT's catalog is finished; a shared --catalog is placed, not made.
StageSummary stage_extract(BuildSession& s);

} // namespace skyscript::pipeline
