#include "pipeline/state/stage_summary.hpp"

#include "pipeline/state/build_session.hpp"

#include <stdexcept>

namespace skyscript::pipeline {

StageSummary run_recorded(BuildSession& session, StageName name, StageSummary (*run)(BuildSession&)) {
    auto summary = run(session);
    if (!summary.skipped && summary.complete) session.state->finish_stage(name, summary.seconds, summary.record);
    if (!summary.stop.empty()) throw std::runtime_error(summary.stop);
    return summary;
}

} // namespace skyscript::pipeline
