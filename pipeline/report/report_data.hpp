#pragma once
// What a build got and what it did not, counted from OUT/state.sqlite (opened read-only,
// so it is safe while a build runs) and from the files in OUT: the one set of numbers
// report.json and report.html both show, so the page can never disagree with the file.

#include "pipeline/report/focus_outline.hpp"
#include "pipeline/report/stage_runs.hpp"

#include <cstdint>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

// How many objects have at least N images, for the thresholds of the paper's Fig. 4b.
struct TagCurvePoint {
    std::int64_t min_images = 0, tags = 0;
};

struct FailureReason {
    std::string reason;         // its class (failure_class.hpp)
    std::int64_t jobs = 0;
    std::string example;        // one job with it: "w123 building=yes (SRC), 3 attempts"
    std::string example_reason; // that job's own message
};


// One written image: the gallery's card and the map's box.
struct ReportImage {
    std::int64_t job_id = 0;
    std::string path, stem, source, focus_tag, title, title_multi_objects, title_polished;
    double west = 0, south = 0, east = 0, north = 0, gsd = 0;
    int year = 0;
    int size_px = 0;      // the image's width and height
    FocusOutline outline; // the focus object over the image (gallery only)
};

struct FileCounts {
    std::int64_t images = 0, image_bytes = 0, meta = 0, jsonl_lines = 0;
    std::map<std::string, std::int64_t> csv_rows; // SkyScript_*.csv -> rows
};

struct ReportData {
    std::string out_dir, generated_at;
    std::map<std::string, std::int64_t> jobs_by_status; // planned fetched written failed
    std::int64_t jobs = 0, pairs = 0;                   // pairs = written jobs = CSV rows
    std::int64_t distinct_focus_tags = 0, distinct_tags = 0, distinct_titles = 0, distinct_multi_titles = 0;
    std::map<std::string, std::map<std::string, std::int64_t>> source_status; // source -> status -> jobs
    std::map<std::pair<std::string, std::string>, std::int64_t> fallbacks;  // (from, to) -> jobs passed on (StateReader::fallbacks)
    std::int64_t every_source_said_no = 0;                                   // failed: no eligible source had imagery
    std::map<std::string, std::int64_t> pairs_by_source, pairs_by_year, pairs_by_kind;
    std::vector<StateReader::SourceTermsCount> licences;         // per source with images: its licence, attribution, images
    std::map<double, std::int64_t> pairs_by_gsd;                  // metres, to 0.01
    std::optional<std::array<double, 4>> extent;                 // west, south, east, north of the written images
    std::vector<std::pair<std::string, std::int64_t>> top_tags;  // most images first
    std::vector<std::int64_t> tag_image_counts;                  // every focus tag's images, descending
    std::vector<TagCurvePoint> tag_curve;
    std::map<std::string, std::int64_t> skipped;
    std::int64_t skipped_total = 0, failed = 0;
    // --reuse: images taken from earlier builds, images fetched from the sources, and finished
    // images of the earlier builds this one did not need (from the last fetch run's summary).
    std::int64_t reused = 0, fetched_anew = 0, reuse_not_needed = 0;
    std::int64_t failure_reasons_total = 0, failure_messages_total = 0; // classes, distinct messages
    std::vector<FailureReason> failures;                         // by class, most common first
    std::vector<StageRun> stages;                                // in pipeline order
    std::map<std::string, std::string> options, catalog;         // the options table; catalog.gpkg's metadata
    bool polish_owed = false;                                    // stage_runs.hpp
    std::int64_t polish_failed_jobs = 0;                         // written jobs a polish request of failed for
    std::map<std::string, std::string> tool;                     // versions
    FileCounts files;
    std::vector<ReportImage> gallery;                            // seeded sample
    std::vector<ReportImage> boxes, failed_boxes;                // seeded samples of written and failed jobs (all when few)
    std::int64_t seed = 1;
};

struct ReportLimits {
    std::size_t top_tags = 50, failures = 20, gallery = 60, boxes = 20000;
};

// Throws std::runtime_error naming OUT when there is no state DB.
ReportData collect_report_data(const std::string& out_dir, const ReportLimits& limits = {});

// "skyscript-build 0.1.0": the version the report and `status --json` carry.
std::string tool_version();

} // namespace skyscript::pipeline
