#include "pipeline/state/stage_summary.hpp"

#include "pipeline/state/build_session.hpp"

#include <stdexcept>

namespace skyscript::pipeline {

void record_stage(StateDb& state, StageName name, const StageSummary& summary) {
    if (!summary.skipped && summary.complete) state.finish_stage(name, summary.seconds, summary.record);
}

StageSummary run_recorded(BuildSession& session, StageName name, StageSummary (*run)(BuildSession&)) {
    auto summary = run(session);
    record_stage(*session.state, name, summary);
    if (!summary.stop.empty()) throw std::runtime_error(summary.stop);
    return summary;
}

} // namespace skyscript::pipeline
