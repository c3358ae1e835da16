#include "pipeline/state/stage_summary.hpp"

#include "pipeline/state/build_session.hpp"
#include "pipeline/common/option_refused.hpp"
#include "pipeline/common/option_table.hpp"

#include <filesystem>

#include <stdexcept>

namespace skyscript::pipeline {

void record_stage(StateDb& state, StageName name, const StageSummary& summary) {
    if (!summary.skipped && summary.complete) state.finish_stage(name, summary.seconds, summary.record);
}

namespace {

// A stage refused a value of this run's before doing any work: OUT's options as they were,
// and a state DB this run made (with nothing in it but them) removed, as open_build_session
// does for a value refused there (the lock then removes an OUT it made).
void forget_this_runs_options(BuildSession& session, StageName refused_by) {
    if (!session.state) return;
    // The split's options refused after earlier stages finished this run (the bare command
    // on a finished build fetches and writes nothing, finished all the same): those stages'
    // options stay, the split's go back, and with them the split it had finished (review of
    // round 34: the refused sizes stayed recorded, the split forgotten, its card removed).
    if (session.stage_finished_this_run) {
        if (refused_by.view() != "split") return;
        auto kept = session.state->options();
        for (const auto& row : option_table) {
            if (row.stage != "split") continue;
            const std::string name(row.name);
            if (const auto it = session.options_before.find(name); it != session.options_before.end()) kept[name] = it->second;
            else kept.erase(name);
        }
        session.state->store_options(kept);
        if (session.split_forgotten) session.state->restore_stage(*session.split_forgotten);
        return;
    }
    if (session.state_made) {
        const auto path = session.state->path();
        session.state.reset();
        std::error_code ignored;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ignored);
        return;
    }
    session.state->store_options(session.options_before);
    if (session.split_forgotten) session.state->restore_stage(*session.split_forgotten);
}

} // namespace

StageSummary run_recorded(BuildSession& session, StageName name, StageSummary (*run)(BuildSession&)) {
    StageSummary summary;
    try {
        summary = run(session);
    } catch (const OptionRefused&) {
        try {
            forget_this_runs_options(session, name);
        } catch (const std::exception&) { // the refusal is what the user needs to read
        }
        throw;
    }
    record_stage(*session.state, name, summary);
    if (!summary.skipped && summary.complete) session.stage_finished_this_run = true;
    if (!summary.stop.empty()) throw std::runtime_error(summary.stop);
    return summary;
}

} // namespace skyscript::pipeline
