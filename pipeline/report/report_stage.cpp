#include "pipeline/report/report_stage.hpp"

#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/report/dataset_card.hpp"
#include "pipeline/report/report_data.hpp"
#include "pipeline/report/report_html.hpp"
#include "pipeline/report/report_json.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace skyscript::pipeline {

ReportSummary run_report(const std::string& out_dir) {
    const auto start = std::chrono::steady_clock::now();
    remove_partial_files(out_dir); // a killed report's (a running build's are left alone)
    const auto data = collect_report_data(out_dir);
    ReportSummary s;
    s.pairs = data.pairs;
    s.failed = data.failed;
    s.json_path = BuildDir(out_dir).report_json();
    s.html_path = BuildDir(out_dir).report_html();
    // A stray byte (a state DB planned by an older build) becomes U+FFFD instead of failing the report.
    write_file_atomically(s.json_path, report_json(data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    write_file_atomically(s.html_path, report_html(data));
    // The dataset card and its Croissant description, for whoever publishes OUT (issue 24).
    if (data.pairs > 0) {
        write_file_atomically(BuildDir(out_dir).path("README.md"), dataset_card(data));
        write_file_atomically(BuildDir(out_dir).path("croissant.json"), croissant(data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
}

void print_report_summary(const ReportSummary& s) {
    std::printf("report: %lld pairs, %lld failed jobs: %s and %s (%.2f s)\n", static_cast<long long>(s.pairs), static_cast<long long>(s.failed),
                s.html_path.c_str(), s.json_path.c_str(), s.seconds);
}

StageSummary report_stage_summary(const ReportSummary& s) {
    return StageSummary::finished(s.seconds, "{\"pairs\":" + std::to_string(s.pairs) + ",\"failed\":" + std::to_string(s.failed) + "}");
}

StageSummary stage_report(BuildSession& s) {
    const auto summary = run_report(s.out_dir);
    if (!s.quiet) print_report_summary(summary);
    return report_stage_summary(summary);
}

} // namespace skyscript::pipeline
