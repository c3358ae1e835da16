#pragma once
// The fetch stage: every planned job's image, from its source through the common
// interface (imagery/image_source.hpp), in batches so memory and scheduling stay flat
// however many jobs wait. A tile with less valid imagery than --min-valid fails with that
// reason; a good one is encoded as JPEG and written atomically to OUT/imagesK/STEM.jpg,
// then the batch's results go into the state DB in one transaction. A source with no
// imagery for a tile (it says so, or the tile is below --min-valid) passes the job to its
// next eligible source (source_fallback.hpp), in the same transaction; the stage goes
// round the sources until no planned job is left, but for a source it stopped (one that
// cannot be opened, or whose last 32 jobs failed in a row: down), whose jobs stay planned
// and leave the stage unfinished. A run killed at any
// moment loses at most the batch in flight: those jobs are still `planned`, and their
// files, if any were renamed, are rewritten with the same bytes.

#include "pipeline/common/build_options.hpp"
#include "pipeline/fetch/fetch_options.hpp"
#include "pipeline/state/build_session.hpp"
#include "pipeline/state/state_db.hpp"

#include <map>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct FetchSummary {
    std::int64_t fetched = 0, failed = 0, retried = 0, remaining = 0;
    std::map<std::pair<std::string, std::string>, std::int64_t> fallbacks; // (from, to) -> jobs moved this run
    std::int64_t reused = 0, reuse_unused = 0; // --reuse: images taken from earlier builds, and theirs not needed
    std::int64_t reuse_refused = 0;            // --reuse: theirs found but gone or cut since (ImageReuse::refused)
    std::map<std::string, std::int64_t> failures; // reason's class (failure_class.hpp) -> jobs
    // alias -> (images fetched, those one flat colour: imagery/flat_colour.hpp), this run
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> flat_images;
    std::uint64_t requests = 0;
    double seconds = 0, cpu_seconds = 0;
    std::vector<std::string> stopped; // sources stopped after a run of failures, and why (their jobs stay planned)
};

FetchSummary run_fetch(const std::string& out_dir, const FetchOptions& options, StateDb& state, bool quiet);
void print_fetch_summary(const FetchSummary& s);

// Complete when no planned job is left. Refuses sources changed since the plan.
StageSummary stage_fetch(BuildSession& s);

} // namespace skyscript::pipeline
