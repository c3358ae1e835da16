#pragma once
// A build's output folder as the stages see it: its state DB, the options in force and the
// lock that keeps it one build's. Opened by the commands (cli/open_build_session.hpp).

#include "pipeline/common/build_options.hpp"
#include "pipeline/state/build_lock.hpp"
#include "pipeline/state/stage_summary.hpp"
#include "pipeline/state/state_db.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace skyscript::pipeline {

struct BuildSession {
    std::unique_ptr<BuildLock> lock; // held while the session lives: one build per OUT
    std::string out_dir;
    BuildOptions options;
    std::unique_ptr<StateDb> state;
    bool quiet = false;
    bool outputs_checked = false; // OUT's files against the state DB, once a run (disk_check.hpp)
    // OUT's recorded options before this run recorded its own, and whether this run made the
    // state DB: what a run whose option a stage refuses puts back (run_recorded).
    std::map<std::string, std::string> options_before;
    bool state_made = false;
    bool stage_finished_this_run = false; // then the options are the work's: they stay
    // The split's record this run forgot when its split options changed: put back with the
    // options when the split refuses them (the CSVs on disk are still that split's).
    std::optional<StateDb::StageRecord> split_forgotten;

    std::string catalog_path() const;
};

} // namespace skyscript::pipeline
