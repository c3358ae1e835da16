#include "pipeline/report/stage_runs.hpp"

#include "pipeline/common/stage_names.hpp"
#include "imagery/json_depth.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace skyscript::pipeline {

namespace {

// The stages in pipeline order, and the count each one's closing line divides by its seconds.
struct StageRate {
    StageName stage;
    const char* summary_key;
    const char* unit;
};
constexpr StageRate stage_rates[] = {
    {"extract", "objects", "objects"}, // extract's catalog rows
    {"plan", "sampled", "objects"},    // plan: "... (N objects/s)" of sampled objects
    {"fetch", "fetched", "images"},    // fetch: "... (N images/s ...)"
    {"write", "rows", "rows"},
    {"polish", "images", "images"},    // polish: its summary has distinct inputs, requests, cache hits, tokens
    {"split", "", ""},
};

} // namespace

std::vector<StageRun> read_stage_runs(StateReader& state) {
    std::map<std::string, StageRun> found;
    for (const auto& record : state.stage_records()) {
        StageRun s;
        s.stage = record.stage;
        s.finished_at = record.finished_at;
        s.summary_json = record.summary_json;
        s.seconds = record.seconds;
        found[s.stage] = s;
    }
    std::vector<StageRun> runs;
    for (const auto& rate : stage_rates) {
        auto it = found.find(std::string(rate.stage.view()));
        if (it == found.end()) continue;
        auto s = it->second;
        const auto summary = imagery::parse_json_within_depth(s.summary_json.empty() ? "{}" : s.summary_json);
        // A count as a run records it: a whole number (a state DB edited by hand may hold 1e300,
        // which no integer holds, or a negative one).
        static const nlohmann::json none;
        const auto& count = *rate.summary_key && summary.is_object() && summary.contains(rate.summary_key) ? summary[rate.summary_key] : none;
        if (count.is_number_integer() && count.get<std::int64_t>() >= 0) { // unsigned too; above INT64_MAX it reads negative
            s.unit = rate.unit;
            s.items = count.get<std::int64_t>();
            s.rate = s.seconds > 0 ? double(s.items) / s.seconds : 0.0;
            if (!std::isfinite(s.rate)) s.rate = 0.0; // seconds of 1e-320: "inf images/s", and an ETA of 0 for the jobs left
        }
        runs.push_back(s);
    }
    return runs;
}

bool polish_owed(StateReader& state) {
    const auto options = state.options();
    const auto polish = options.find("polish");
    // A run stopped part way owes the rest however its jobs' records read: those it did not
    // reach hold the earlier run's captions (another model's or prompt's: red-team round 41).
    return polish != options.end() && polish->second == "true" && !state.finished_stages().count("polish") &&
           (state.polish_started() || state.written_owing_polish());
}

} // namespace skyscript::pipeline
