#pragma once
// `merge OUT SHARD_DIR...` (docs/scale.md): the OUT folders of N `--shard i/N` workers
// joined into one dataset in OUT, the same as one machine's build of the same input and
// options: one state DB (merged_state.hpp), each shard's images and meta hard-linked (copied
// across file systems) into the parts their global job ids give them -- a single run's
// layout, so no two files clash --, the catalog of the first shard, then the write stage's
// meta.jsonl, the split over all images (spatial blocks across shards) and the report.
// Idempotent and resumable: a rerun, after a kill or not, redoes what is missing and ends
// with the same files.

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct MergeSummary {
    std::int64_t shards = 0, count = 0, missing = 0, unfinished = 0;
    std::int64_t linked = 0, copied = 0, present = 0;
    std::int64_t jobs = 0, images = 0, split_images = 0;
    double seconds = 0;
};

MergeSummary run_merge(const std::string& out_dir, const std::vector<std::string>& shard_dirs, bool partial, bool quiet);
void print_merge_summary(const MergeSummary& s, const std::string& out_dir);

} // namespace skyscript::pipeline
