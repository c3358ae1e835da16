#pragma once
// Coverage is a hint, availability is the truth (docs/sources.md, "Fallback"): a job holds
// every source eligible for its object in the policy's order; when the one asked has no
// imagery for its tile, the fetch stage moves it here to the next, with its tile placed
// anew for that source by the plan's own seeded rule and its tags and captions made again
// (JobMaker). The catalog and its index are loaded on the first move only: a build whose
// sources all answer never pays for them.

#include "pipeline/common/build_sources.hpp"
#include "pipeline/plan/plan_options.hpp"
#include "pipeline/state/job.hpp"

#include <memory>
#include <string>
#include <vector>

namespace skyscript::pipeline {

class SourceFallback {
public:
    SourceFallback(std::string out_dir, PlanOptions options, const std::vector<BuildSource>& sources);
    ~SourceFallback();

    // Records `reason` as what job.source said, and moves the job to the first of its
    // fallbacks. False, and the job untouched but for `tried`, when none is left.
    bool move_to_next(Job& job, const std::string& reason);

private:
    struct Loaded;
    Loaded& loaded();
    std::string out_dir_;
    PlanOptions options_;
    const std::vector<BuildSource>& sources_;
    std::unique_ptr<Loaded> loaded_;
};

// "P3: no image ...; S2: only 3.1% of the tile has imagery ..." from a job's `tried`: the
// reason a job fails with when every eligible source said no.
std::string every_source_said_no(const Job& job);
// What a job fails with when its source said no: every_source_said_no's words, but under
// --source-policy all (a job per source, none passed on) only its own source's: another
// source's job of the object may have imagery (it read "no eligible source has imagery here").
std::string no_imagery_reason(const Job& job, SourcePolicy policy);

} // namespace skyscript::pipeline
