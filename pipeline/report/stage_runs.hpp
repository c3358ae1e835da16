#pragma once
// The `stages` table as people read it: each finished stage in pipeline order with its
// seconds and the rate its closing line printed (the same count over the same seconds,
// both recorded by run_recorded, state/stage_summary.hpp), for the report and `status`.

#include "pipeline/state/state_reader.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct StageRun {
    std::string stage, finished_at, summary_json;
    double seconds = 0;
    // The rate the stage prints in its closing line: count of `unit` per second (unit "" = none).
    std::string unit;
    std::int64_t items = 0;
    double rate = 0;
};

// extract, plan, fetch, write, split: those that have finished.
std::vector<StageRun> read_stage_runs(StateReader& state);

// Whether the build owes a polish: asked for one (--polish recorded), its stage not finished,
// and a written job it has not reached or whose request failed (a merge's jobs carry their
// shards' polish records).
// `status` names it as the stage next, and the report's withheld-card note as what to run.
bool polish_owed(StateReader& state);

} // namespace skyscript::pipeline
