#pragma once
// The report stage: OUT/report.json and OUT/report.html from the state DB and the files,
// both written atomically; the last step of the bare command and `report OUT`.

#include "pipeline/state/build_session.hpp"

#include <cstdint>
#include <string>

namespace skyscript::pipeline {

struct ReportSummary {
    std::int64_t pairs = 0, failed = 0;
    double seconds = 0;
    std::string json_path, html_path;
    // No dataset card: OUT holds a split's files but no finished split (BuildDir::split_outputs_present).
    bool card_withheld = false;
    std::string settle_with; // the stage whose run makes the card again: "split", or "polish" (stopped part way, it runs the split)
    std::int64_t images_missing = 0; // pairs whose image is not in OUT (fewer imagesK/*.jpg than pairs)
};

ReportSummary run_report(const std::string& out_dir);
// Its closing line on stdout; the withheld card's note on stderr, also under -q.
void print_report_summary(const ReportSummary& s, bool quiet, const std::string& out_dir);
// The summary the state DB records for the stage (`report OUT` has no session).
StageSummary report_stage_summary(const ReportSummary& s);
// The bare command's last step.
StageSummary stage_report(BuildSession& s);

} // namespace skyscript::pipeline
