#pragma once
// The stages that run on a build folder's session, one entry each, in stage_list's order:
// its name (stage_names.hpp), its run, its `--help` text and what its summary means for
// the exit code. The bare command runs the entries stage_list marks as its own, in order;
// `plan OUT`, `fetch OUT`, `write OUT`, `split OUT`, `benchmarks OUT` run one through
// run_stage_command. Each run is recorded in the state DB under its name (run_recorded).

#include "pipeline/cli/open_build_session.hpp"
#include "pipeline/common/stage_names.hpp"

#include <span>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct Stage {
    StageName name;
    StageSummary (*run)(BuildSession& session);
    const char* usage = nullptr; // `NAME --help` before the options; nullptr: "Runs the NAME stage ..."
    bool zero_fails = false;     // its command exits 1 when it made nothing (count 0: write, split)
    bool empty_ends_build = false; // the bare command stops after it when it made nothing (write)
};

std::span<const Stage> stage_table();
const Stage& find_stage(StageName name);
bool in_bare_command(const Stage& stage);

// Whether the build in `session` has a split made, finished or not (its files in OUT): a
// polish that changes captions forgets it, and the split is then made again.
bool split_made(const BuildSession& session);

// A shard whose failed jobs all failed for want of imagery at any eligible source (none failed on
// a server's errors): having no image is then no error of its own (the unsharded build had the
// other shards' images) and exit 1 would hold back a scheduler's merge for good (Slurm's afterok;
// red-team round 39); `merge` says when no shard wrote any. The warning says so.
bool shard_without_imagery(BuildSession& session);
void warn_shard_without_imagery(const BuildSession& session);

// The polish stage run and recorded; when it stops with an error after forgetting a split it
// found made (`split_before`: its captions changed, so the CSVs no longer say what meta.jsonl
// says), the split and the report are made again before the error goes on.
StageSummary run_polish_keeping_split(BuildSession& session, bool split_before);

// `NAME OUT [options]`: OUT is the one positional argument.
int run_stage_command(const Stage& stage, const std::vector<std::string>& args);

} // namespace skyscript::pipeline
