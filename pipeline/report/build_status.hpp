#pragma once
// Where a running or finished build stands, read from OUT/state.sqlite (read-only: safe
// while the build writes) and the newest images' modification times: jobs by status,
// the stage at work, the current rate and an ETA. For `status OUT [--json]`.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct BuildStatus {
    std::string out_dir, stage; // the stage at work or next: extract plan fetch write report, or "finished"
    std::vector<std::string> finished;                  // stages recorded in `stages`, in pipeline order
    std::map<std::string, std::int64_t> jobs_by_status; // planned fetched written failed
    std::int64_t jobs = 0, skipped = 0;
    // From the images written in the last `window_seconds`: images/s (0 when none), the
    // seconds since the newest image (-1 when there is none) and the ETA of the planned
    // jobs at that rate, failures counted at their share so far (-1 when unknown).
    double window_seconds = 60, images_per_second = 0, newest_image_age = -1, eta_seconds = -1;
};

BuildStatus read_build_status(const std::string& out_dir, double window_seconds = 60);
std::string status_text(const BuildStatus& s);
nlohmann::json status_json(const BuildStatus& s);

} // namespace skyscript::pipeline
