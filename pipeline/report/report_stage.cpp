#include "pipeline/report/report_stage.hpp"

#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/report/dataset_card.hpp"
#include "pipeline/report/report_data.hpp"
#include "pipeline/report/report_html.hpp"
#include "pipeline/report/report_json.hpp"

#include <algorithm>
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
    // Pairs the state DB claims whose images are not on disk (deleted, a state DB put in from
    // another build): told, not counted as the dataset silently (red-team round 42).
    s.images_missing = std::max<std::int64_t>(0, data.pairs - data.files.images);
    s.json_path = BuildDir(out_dir).report_json();
    s.html_path = BuildDir(out_dir).report_html();
    // A stray byte (a state DB planned by an older build) becomes U+FFFD instead of failing the report.
    write_file_atomically(s.json_path, report_json(data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    write_file_atomically(s.html_path, report_html(data));
    // The dataset card and its Croissant description, for whoever publishes OUT (issue 24).
    // Not over a split stopped part way (its shards and CSVs from two splits), running, or
    // made before captions were polished: a card would publish their counts and digests as
    // the dataset, its options as how it was split (red-team round 34); an earlier card no
    // longer says what the files are either. The split's own end makes the report again.
    const bool split_finished = std::any_of(data.stages.begin(), data.stages.end(), [](const StageRun& r) { return r.stage == "split"; });
    // Nor over no pairs: an earlier card's counts and digests (48 images, a CSV's sha256) stayed
    // beside the header-only CSVs of a split that found no image (red-team round 35).
    const auto remove_card = [&] {
        std::error_code ec;
        std::filesystem::remove(BuildDir(out_dir).path("README.md"), ec);
        std::filesystem::remove(BuildDir(out_dir).path("croissant.json"), ec);
    };
    if (data.pairs == 0) {
        remove_card();
    } else if (!split_finished && BuildDir(out_dir).split_outputs_present()) {
        s.card_withheld = true;
        s.settle_with = data.polish_owed ? "polish" : "split";
        remove_card();
    } else {
        write_file_atomically(BuildDir(out_dir).path("README.md"), dataset_card(data));
        write_file_atomically(BuildDir(out_dir).path("croissant.json"), croissant(data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
}

void print_report_summary(const ReportSummary& s, bool quiet, const std::string& out_dir) {
    if (!quiet)
        std::printf("report: %lld pairs, %lld failed jobs: %s and %s (%.2f s)\n", static_cast<long long>(s.pairs), static_cast<long long>(s.failed),
                    s.html_path.c_str(), s.json_path.c_str(), s.seconds);
    if (s.images_missing > 0)
        std::fprintf(stderr, "skyscript-build: warning: %s: %lld of the %lld pairs have no image in it (%lld images on disk); the build run again (or "
                             "`skyscript-build fetch %s`, then write and split) fetches them again\n",
                     out_dir.c_str(), static_cast<long long>(s.images_missing), static_cast<long long>(s.pairs),
                     static_cast<long long>(s.pairs - s.images_missing), out_dir.c_str());
    if (s.card_withheld)
        std::fprintf(stderr, "skyscript-build: note: %s: no dataset card (README.md, croissant.json): the split is not finished (stopped part way, "
                             "running, or captions polished since); run `skyscript-build %s %s`, which makes the report again\n",
                     out_dir.c_str(), s.settle_with.c_str(), out_dir.c_str());
}

StageSummary report_stage_summary(const ReportSummary& s) {
    return StageSummary::finished(s.seconds, "{\"pairs\":" + std::to_string(s.pairs) + ",\"failed\":" + std::to_string(s.failed) + "}");
}

StageSummary stage_report(BuildSession& s) {
    const auto summary = run_report(s.out_dir);
    print_report_summary(summary, s.quiet, s.out_dir);
    return report_stage_summary(summary);
}

} // namespace skyscript::pipeline
