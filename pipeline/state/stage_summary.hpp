#pragma once
// What a stage's run returns: the summary its record in the state DB carries, and what the
// command makes of it. Stages do not record themselves: run_recorded runs one and records it
// under its name (pipeline/cli/stage_table.cpp names each stage's run once; merge runs write,
// split and report the same way).

#include "pipeline/common/stage_names.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace skyscript::pipeline {

struct BuildSession;

struct StageSummary {
    bool skipped = false;    // nothing to do: OUT's record of the stage stands
    bool complete = true;    // false: work is left (fetch with planned jobs): not recorded as finished
    double seconds = 0;
    std::string record;      // the record's summary, JSON
    std::int64_t count = -1; // what it made (rows, images); -1 when it counts nothing
    std::string stop;        // not empty: recorded, then the build cannot go on (thrown as the error)

    // A stage that ran, took `seconds` and made `count`, summarised by `record`.
    static StageSummary finished(double seconds, std::string record, std::int64_t count = -1) {
        StageSummary s;
        s.seconds = seconds;
        s.record = std::move(record);
        s.count = count;
        return s;
    }
    // A stage with nothing to do.
    static StageSummary nothing_to_do() {
        StageSummary s;
        s.skipped = true;
        return s;
    }
};

class StateDb;

// Records `summary` in the state DB under `name`, when the stage ran and is complete.
void record_stage(StateDb& state, StageName name, const StageSummary& summary);

// Runs `run` on the session and records its summary under `name` (record_stage); throws the
// summary's `stop` after recording it.
StageSummary run_recorded(BuildSession& session, StageName name, StageSummary (*run)(BuildSession&));

} // namespace skyscript::pipeline
