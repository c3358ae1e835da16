#pragma once
// Opening a build's output folder for a run: the options in force (flags > --config TOML >
// what OUT recorded > defaults), refused with one line when they would change work OUT has
// already done (a different seed, tag list, source list, ... would mix two datasets in one
// folder), then recorded.

#include "pipeline/common/cli_args.hpp"
#include "pipeline/state/build_session.hpp"

#include <string>

namespace skyscript::pipeline {

// `input`: the bare command's INPUT.osm.pbf ("" for a stage subcommand on OUT, which
// must already exist with its state DB). `stage`: the one stage this run is (none for the bare
// command); one after the split (report, benchmarks) may not change the split's options,
// which only `split` applies: it would describe, or draw from, a split the CSVs do not hold.
BuildSession open_build_session(const CliArgs& cli, const std::string& out_dir, const std::string& input, std::string_view stage = {});

} // namespace skyscript::pipeline
