#include "pipeline/report/build_status.hpp"

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/stage_names.hpp"
#include "pipeline/report/report_data.hpp"
#include "pipeline/report/stage_runs.hpp"
#include "pipeline/state/build_lock.hpp"
#include "pipeline/state/state_reader.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string_view>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// The report is the bare command's last step (stage_names.hpp), so a build whose report is
// recorded is finished; stages between write and report count as the report's part.

// Seconds since each of the newest images of every source was written. The fetch stage
// goes source by source in job order, so a source's highest job ids are its newest images.
std::vector<double> newest_image_ages(StateReader& state, const std::string& out_dir) {
    constexpr int per_source = 1000;
    std::vector<double> ages;
    const auto now = fs::file_time_type::clock::now();
    for (const auto& source : state.sources())
        for (const auto& [part, stem] : state.newest_images(source, per_source)) {
            if (!is_stem(stem)) continue; // a state DB edited by hand
            std::error_code ec;
            const auto t = fs::last_write_time(BuildDir(out_dir).image(part, stem), ec);
            if (!ec) ages.push_back(std::chrono::duration<double>(now - t).count());
        }
    std::sort(ages.begin(), ages.end());
    return ages;
}

// The build is at `stage` (next or running); nor is that stage, or any after it, finished now
// (red-team round 33: "write stage next (finished: extract plan fetch write split report)").
void at_stage(BuildStatus& s, std::string_view stage) {
    s.stage = stage;
    std::erase_if(s.finished, [&](const std::string& st) { return stage_rank(st) >= stage_rank(stage); });
}

// The stage the command in the build lock's holder line runs ("process PID since TIME:
// PROGRAM STAGE OUT ..."), "" for the bare command or a line it cannot read.
std::string holder_stage(const std::string& holder) {
    const auto colon = holder.find(": ");
    if (colon == std::string::npos) return "";
    std::istringstream words(holder.substr(colon + 2));
    std::string program, command;
    words >> program >> command;
    return stage_rank(command) >= 0 ? command : "";
}

void read_into(BuildStatus& s, StateReader& state) {
    s.jobs_by_status = state.count_by_status();
    for (const auto& [status, n] : s.jobs_by_status) s.jobs += n;
    for (const auto& [reason, n] : state.skipped()) s.skipped += n;
    auto done = state.finished_stages();
    // `extract` run alone records no stage (it makes no state DB): a finished plan read its catalog.
    if (done.count("plan")) done.insert("extract");
    // A merge's jobs are its shards' plans and fetches (recorded so only when every shard is
    // there): a --partial merge had said "extract stage next" over its written images.
    if (done.count("merge")) done.insert({"extract", "plan", "fetch"});
    for (const auto& st : stage_list)
        if (st.in_bare_command && done.count(std::string(st.name))) s.finished.emplace_back(st.name);
    s.stage = done.count("report") ? "finished" : "report";
    for (const auto& st : stage_list) // the first of the stages up to write that has not finished
        if (stage_rank(st.name) <= stage_rank("write") && !done.count(std::string(st.name))) {
            s.stage = st.name;
            break;
        }
    // The stages after write a finished report does not settle: a polish the build was asked
    // for (--polish recorded) that has not reached every written job (a merge's are its
    // shards'), and a split whose files OUT holds that has not finished (stopped part way,
    // running, or captions polished since). Status said "finished" there (red-team round
    // 34), and "report stage next" after a stopped polish, whose report made nothing of the
    // polished captions. A polish owed leaves the stages after it finished if they are.
    if (s.stage == "finished" || s.stage == "report") {
        if (polish_owed(state))
            s.stage = "polish";
        // Nor is a build with images never split (write, then report, stage by stage: red-team
        // round 39, "finished" without a CSV); the bare command splits whatever has an image.
        else if (!done.count("split") && (BuildDir(s.out_dir).split_outputs_present() || s.jobs_by_status.at("written") > 0))
            at_stage(s, "split");
    }
    // Jobs waiting for a stage that finished before (images gone since, sent back by a later
    // stage; a merge's shard image cut short): the build is at that stage again.
    const auto waiting_at = s.jobs_by_status.at("planned") > 0 ? "fetch" : s.jobs_by_status.at("fetched") > 0 ? "write" : "";
    if (*waiting_at && (s.stage == "finished" || stage_rank(s.stage) > stage_rank(waiting_at))) at_stage(s, waiting_at);

    // A finished fetch has its own rate (what its closing line printed); images' times would
    // say when they were written or copied, not how fast.
    for (const auto& run : read_stage_runs(state))
        // Not a record without its count, nor a rerun's that fetched nothing (its 0 images/s is no rate).
        if (run.stage == "fetch" && !run.unit.empty() && run.items > 0) s.rate_from = "fetch stage", s.images_per_second = run.rate;

    auto ages = newest_image_ages(state, s.out_dir);
    // An image dated in the future (a copy from a host whose clock is ahead, an NFS server's
    // clock) says nothing of when it was written: it made the window's span and rate nonsense
    // (a negative ETA of 596523 hours). Left out; a few seconds ahead is this clock's jitter.
    std::erase_if(ages, [](double a) { return a < -2.0; });
    if (!ages.empty()) s.newest_image_age = std::max(0.0, ages.front());
    std::vector<double> recent;
    for (double a : ages)
        if (a <= s.window_seconds) recent.push_back(a);
    // Images per second from the oldest image of the window until now (a build started 10 s
    // ago is not diluted over 60 s). Not until the newest image: a burst then a stall (a local
    // source's share in half a second, then a slow fallback source's) read as the burst's 88
    // images/s, and an ETA of 1 s, for the whole minute the stall lasted (red-team round 32).
    if (s.rate_from.empty() && recent.size() >= 2 && recent.back() > 0)
        s.rate_from = "newest images", s.images_per_second = double(recent.size()) / std::max(recent.back(), 1.0);
    const auto& j = s.jobs_by_status;
    const double finished_jobs = double(j.at("fetched") + j.at("written") + j.at("failed"));
    const double image_share = finished_jobs > 0 ? double(j.at("fetched") + j.at("written")) / finished_jobs : 1.0;
    if (j.at("planned") == 0 && s.stage != "extract" && s.stage != "plan") s.eta_seconds = 0;
    else if (s.images_per_second > 0 && image_share > 0) s.eta_seconds = double(j.at("planned")) * image_share / s.images_per_second;
}

// The state DB cannot be read now (BuildStatus::unreadable): the stage at work, and no counts.
void unreadable_now(BuildStatus& s, const char* stage, const char* why) {
    s.stage = stage;
    s.unreadable = why;
    for (const char* status : {"planned", "fetched", "written", "failed"}) s.jobs_by_status[status] = 0;
}

} // namespace

BuildStatus read_build_status(const std::string& out_dir, double window_seconds) {
    BuildStatus s;
    s.out_dir = out_dir;
    s.window_seconds = window_seconds;
    s.running = build_lock_held(out_dir);
    const auto blank = s;
    // A merge makes its state DB beside the final one and puts it in place when it has every
    // shard's jobs: until then there is no state.sqlite, and status said "no build here;
    // start one" (exit 1) to a scheduler polling a merge (red-team round 33); so it did while
    // a merge held the lock checking its shards, before it had made any (review of round 33).
    if (std::error_code ec; !fs::exists(BuildDir(out_dir).state_db(), ec))
        if (const auto why = why_no_state_db(out_dir, s.running); why != NoStateDb::no_build) {
            s.holder = why == NoStateDb::run_starting ? build_lock_holder(out_dir) : "";
            unreadable_now(s, why != NoStateDb::run_starting || s.holder.find(" merge ") != std::string::npos ? "merge" : "extract",
                           why == NoStateDb::merge_making ? "merge writing" : why == NoStateDb::merge_stopped ? "merge interrupted" : "not made yet");
            return s;
        }
    try {
        // A second's wait: the stages' own writes hold the DB for milliseconds; only a plan's for longer.
        StateReader state(out_dir, 1000);
        read_into(s, state);
    } catch (const SqliteError& e) {
        const auto why = StateReader::why_unreadable(e);
        if (why == StateReader::Unreadable::no) throw;
        s = blank; // nothing of a read that stopped part way
        unreadable_now(s, "plan", why == StateReader::Unreadable::plan_writing ? "plan writing" : "plan interrupted");
    }
    // A finished build that a run holds (a split, report or benchmarks run again): the stage
    // that run is at, not "finished" while its files are being replaced (red-team round 34).
    if (s.running == true && s.stage == "finished")
        if (const auto stage = holder_stage(build_lock_holder(out_dir)); !stage.empty()) at_stage(s, stage);
    // No ETA for a build no process runs (red-team round 33: "ETA 23s" after a kill -9, growing
    // with each status): the images of its last minute were its last.
    if (s.running == false && s.eta_seconds > 0) s.eta_seconds = -1;
    return s;
}

std::string status_text(const BuildStatus& s) {
    if (s.unreadable == "plan writing")
        return s.out_dir + ": plan stage running: it is writing its jobs, and the state DB is locked until it commits them (status counts them then)\n";
    if (s.unreadable == "merge writing")
        return s.out_dir + ": merge running: its state DB (state.sqlite.merging) is put in place once the shards' jobs and files are in (status "
                           "counts them then)\n";
    if (s.unreadable == "not made yet")
        return s.out_dir + ": " + s.stage + " stage running: no state DB yet; a run holds the build's lock (" +
               (s.holder.empty() ? std::string("it has not said who it is yet") : s.holder) + "); status counts its jobs once it has one\n";
    if (s.unreadable == "merge interrupted")
        return s.out_dir + ": merge next: a merge stopped before it put its state DB in place (state.sqlite.merging is left): run the merge again\n";
    if (!s.unreadable.empty())
        return s.out_dir + ": plan stage next: a run stopped in the middle of its plan; the next run of the build rolls the state DB back to before it "
                           "and plans again\n";
    const auto& j = s.jobs_by_status;
    const std::string at = !s.running ? " stage next or running" : *s.running ? " stage next or running (a run of the build is going on)"
                                                                             : " stage next (no run of the build now)";
    std::string out = s.out_dir + ": " + (s.stage == "finished" ? "finished" : s.stage + at);
    if (!s.finished.empty()) {
        out += " (finished:";
        for (const auto& st : s.finished) out += " " + st;
        out += ")";
    }
    out += "\njobs: " + std::to_string(s.jobs) + " total, " + std::to_string(j.at("written")) + " written, " + std::to_string(j.at("fetched")) +
           " fetched, " + std::to_string(j.at("planned")) + " planned, " + std::to_string(j.at("failed")) + " failed";
    if (s.skipped) out += "; " + std::to_string(s.skipped) + " sampled objects skipped by the plan";
    char buf[160];
    if (s.rate_from == "fetch stage") {
        std::snprintf(buf, sizeof buf, "\nrate: the fetch stage ran at %.1f images/s", s.images_per_second);
        out += buf;
    } else if (s.newest_image_age < 0) out += "\nrate: no image yet";
    else {
        std::snprintf(buf, sizeof buf, "\nrate: %.1f images/s over the last %.0f s (newest image %s ago)", s.images_per_second, s.window_seconds,
                      format_duration(s.newest_image_age).c_str());
        out += buf;
    }
    if (s.eta_seconds == 0) out += "; nothing left to fetch";
    else if (s.eta_seconds > 0) out += "; ETA " + format_duration(s.eta_seconds) + " for " + std::to_string(j.at("planned")) + " planned jobs";
    else if (j.at("planned") > 0 && s.newest_image_age < 0) out += "; ETA once the first images are fetched";
    // A run holding the lock with no image of late: its jobs are failing or being passed on to
    // a slow source (red-team round 32: it asked whether a running build was running).
    else if (j.at("planned") > 0 && s.running == true)
        out += "; ETA unknown (no image in the last " + format_duration(s.window_seconds) + "; the build is running: its latest jobs failed or were passed on)";
    else if (j.at("planned") > 0 && s.running == false) out += "; ETA unknown (no run of the build now: run it again to go on)";
    else if (j.at("planned") > 0) out += "; ETA unknown (no image in the last " + format_duration(s.window_seconds) + ": is the build running?)";
    return out + "\n";
}

nlohmann::json status_json(const BuildStatus& s) {
    nlohmann::json j = {{"out", s.out_dir},
                        {"tool", tool_version()},
                        {"stage", s.stage},
                        {"finished_stages", s.finished},
                        {"jobs", {{"total", s.jobs}}},
                        {"skipped", s.skipped},
                        {"rate", {{"images_per_second", s.images_per_second}, {"from", s.rate_from}, {"window_seconds", s.window_seconds}}},
                        {"newest_image_seconds_ago", s.newest_image_age < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.newest_image_age)},
                        {"eta_seconds", s.eta_seconds < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.eta_seconds)},
                        {"running", s.running ? nlohmann::json(*s.running) : nlohmann::json(nullptr)}};
    for (const auto& [k, v] : s.jobs_by_status) j["jobs"][k] = v;
    // The counts are unknown while the state DB cannot be read.
    j["state_db"] = s.unreadable.empty() ? "readable" : s.unreadable;
    if (!s.unreadable.empty()) j["jobs"] = nullptr, j["skipped"] = nullptr;
    return j;
}

} // namespace skyscript::pipeline
