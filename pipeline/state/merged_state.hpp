#pragma once
// The merged build's state DB, made whole under a temporary name and then renamed to
// OUT/state.sqlite, so a killed merge leaves either the previous one or the new one: every
// job of every shard with its global job_id (a clash is two overlapping shards, refused),
// the skip counts summed, the shards' common options (with `shard` cleared), the extract,
// plan and fetch stages as one machine's build would record them, and a "merge" stage that
// marks OUT as a merge's output.

#include "pipeline/state/shard_set.hpp"

#include <string>

namespace skyscript::pipeline {

// Builds OUT/state.sqlite.merging; install_merged_state renames it over OUT/state.sqlite.
std::string build_merged_state(const ShardSet& set, const std::string& out_dir);
void install_merged_state(const std::string& merging_path, const std::string& out_dir);

// Throws one line unless OUT/state.sqlite is absent, holds no job, or was made by a merge of
// shards of the same dataset (the same options up to fetch but --shard): a rerun may finish or
// repeat that merge, but not replace another build or another dataset.
void refuse_unless_merge_of(const std::string& out_dir, const ShardSet& set);

} // namespace skyscript::pipeline
