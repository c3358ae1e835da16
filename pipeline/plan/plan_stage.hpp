#pragma once
// The plan stage: catalog.gpkg -> the jobs in OUT/state.sqlite. Samples focus objects,
// chooses each one's source and tile, finds its surroundings and writes both captions;
// counts every object that gets no job by its reason.

#include "pipeline/common/build_options.hpp"
#include "pipeline/plan/plan_options.hpp"
#include "pipeline/sample/sampler.hpp"
#include "pipeline/state/build_session.hpp"
#include "pipeline/state/state_db.hpp"
#include "pipeline/tiles/tile_placement.hpp"

#include <map>
#include <string>

namespace skyscript::pipeline {

struct PlanSummary {
    std::int64_t candidates = 0, sampled = 0, jobs = 0;
    bool sampled_in_read = false; // the extract drew the cells and rare tags (candidates: the input's)
    std::int64_t cells_total = 0, cells_chosen = 0, rare_added = 0, over_tag_cap = 0, over_limit = 0;
    bool sampled_cells = false;
    std::string shard;         // --shard i/N: `jobs` are this shard's of `jobs_all`
    std::int64_t jobs_all = 0;
    std::map<std::string, std::int64_t> skipped;
    int threads = 1;           // placing the jobs (--threads)
    double seconds = 0;
};

PlanSummary run_plan(const std::string& out_dir, const PlanOptions& options, StateDb& state, bool quiet);
void print_plan_summary(const PlanSummary& s);

// Skipped when OUT's plan is finished; records what the sources were when planned.
StageSummary stage_plan(BuildSession& s);

} // namespace skyscript::pipeline
