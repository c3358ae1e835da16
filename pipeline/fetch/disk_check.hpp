#pragma once
// Resume trusts the disk, not only the state DB (docs/reliability.md): before fetching,
// every fetched or written job's files are looked for. A missing image, or one not the size
// it was written at (cut short, replaced), sends its job back to be fetched again; a written
// job whose meta file is missing or not its recorded size goes back to be written
// again. meta.jsonl and the CSVs are made anew from the state DB on every run, so only
// those jobs' files are redone, and no CSV row names a file that is not there.

#include "pipeline/state/build_session.hpp"
#include "pipeline/state/state_db.hpp"

#include <cstdint>
#include <string>

namespace skyscript::pipeline {

struct MissingOutputs {
    std::int64_t images = 0; // jobs to fetch again
    std::int64_t meta = 0;   // jobs to write again (image still there)
};

MissingOutputs restore_missing_outputs(const std::string& out_dir, StateDb& state);

// restore_missing_outputs once a run (BuildSession::outputs_checked), before the first of
// fetch and write; `stage` names the stage in the line it prints.
void restore_outputs_once(BuildSession& s, const char* stage);

} // namespace skyscript::pipeline
