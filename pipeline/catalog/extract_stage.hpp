#pragma once
// The extract stage (PBF → OUT/catalog.gpkg) as a function, for the `extract` subcommand and the full run.

#include "catalog_row.hpp"
#include "cli_args.hpp"
#include "extract_stats.hpp"

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
    bool force = false;            // go on when the pre-flight check says the run cannot fit
    bool quiet = false;
};

struct ExtractResult {
    osm::ExtractStats stats;
    std::string catalog_path;
    double seconds = 0;
};

ExtractRequest parse_extract_args(const CliArgs& cli);
const std::vector<OptionSpec>& extract_option_specs();
// UsageError unless `name` is one of the indexes `extract --help` lists.
void check_node_index(const std::string& name);
ExtractResult run_extract(const ExtractRequest& req);
void print_extract_summary(const ExtractResult& result);

} // namespace skyscript::pipeline
