#pragma once
// The write stage: for every fetched job its meta pickle (OUT/metaK/STEM.pickle, written
// atomically, then the job is marked written), then the files generated from the state DB
// alone, so it always agrees with it: meta.jsonl (the CSVs are the split stage's,
// pipeline/split/split_stage.hpp, which runs after it). Image or meta files that no written job names (left by a killed run
// whose job was then fetched under another name) are removed: every image has its meta
// and exactly one CSV row.

#include "pipeline/common/build_options.hpp"
#include "pipeline/state/build_session.hpp"
#include "pipeline/state/state_db.hpp"

#include <string>
#include <vector>

namespace skyscript::pipeline {

struct WriteSummary {
    std::int64_t written_now = 0, rows = 0, orphans_removed = 0;
    double seconds = 0;
};

WriteSummary run_write(const std::string& out_dir, const BuildOptions& options, StateDb& state, bool quiet);
void print_write_summary(const WriteSummary& s, const std::string& out_dir);

// The meta files of jobs as they stand: one pickle each (atomically, on every core), and
// OUT/meta.jsonl made again from the state DB's written jobs (returns the rows). The write
// stage makes them; the polish stage makes them again when it changed captions.
// write_meta_pickles gives each file's size, in the jobs' order, for the state DB to record.
std::vector<std::int64_t> write_meta_pickles(const std::string& out_dir, const std::vector<Job>& jobs);
std::int64_t write_meta_jsonl(const std::string& out_dir, StateDb& state);

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled (the one CSV
// field writer: dataset/csv_writer.hpp uses it).
void append_csv_field(std::string& out, const std::string& field);

// Its count: rows in the CSV (meta.jsonl lines).
StageSummary stage_write(BuildSession& s);

} // namespace skyscript::pipeline
