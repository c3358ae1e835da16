#pragma once
// Where a running or finished build stands, read from OUT/state.sqlite (read-only: safe
// while the build writes) and the newest images' modification times: jobs by status,
// the stage at work, the current rate and an ETA. For `status OUT [--json]`.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct BuildStatus {
    std::string out_dir, stage; // the stage at work or next: extract plan fetch write report, or "finished"
    std::vector<std::string> finished;                  // stages recorded in `stages`, in pipeline order
    std::map<std::string, std::int64_t> jobs_by_status; // planned fetched written failed
    std::int64_t jobs = 0, skipped = 0;
    // images/s: the fetch stage's recorded rate once it has finished (rate_from "fetch stage"),
    // else from the images written in the last `window_seconds` ("newest images"; "" and 0
    // when there are none). The seconds since the newest image (-1 when there is none) and
    // the ETA of the planned jobs at that rate, failures counted at their share so far
    // (-1 when unknown, 0 when nothing is left).
    double window_seconds = 60, images_per_second = 0, newest_image_age = -1, eta_seconds = -1;
    std::string rate_from;
    // Not "" when the state DB cannot be read now (StateReader::Unreadable): "plan writing" or
    // "plan interrupted" (`stage` is "plan"), "merge writing" or "merge interrupted" (a merge's
    // state DB not in place yet; `stage` is "merge"), "not made yet" (a run holds the lock
    // and has made none: a merge checking its shards, a build starting); the counts are then
    // unknown (0).
    std::string unreadable;
    std::string holder; // with "not made yet": the lock holder's line

    // Whether a run holds OUT's build lock now (build_lock_held); nullopt when it cannot be told.
    std::optional<bool> running;
};

BuildStatus read_build_status(const std::string& out_dir, double window_seconds = 60);
std::string status_text(const BuildStatus& s);
nlohmann::json status_json(const BuildStatus& s);

} // namespace skyscript::pipeline
