#pragma once
// The write stage: for every fetched job its meta pickle (OUT/metaK/STEM.pickle, written
// atomically, then the job is marked written), then the files generated from the state DB
// alone, so they always agree with it: SkyScript_train_unfiltered.csv (header
// filepath,title,title_multi_objects, plus the natural columns when that style is on)
// and meta.jsonl. Image or meta files that no written job names (left by a killed run
// whose job was then fetched under another name) are removed: every image has its meta
// and exactly one CSV row.

#include "build_options.hpp"
#include "state_db.hpp"

#include <string>

namespace skyscript::pipeline {

struct WriteSummary {
    std::int64_t written_now = 0, rows = 0, orphans_removed = 0;
    double seconds = 0;
};

WriteSummary run_write(const std::string& out_dir, const BuildOptions& options, StateDb& state, bool quiet);
void print_write_summary(const WriteSummary& s, const std::string& out_dir);

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
void append_csv_field(std::string& out, const std::string& field);

} // namespace skyscript::pipeline
