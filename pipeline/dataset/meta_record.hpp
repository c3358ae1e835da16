#pragma once
// A job's metadata record (docs/dataset-format.md), one source for both files that carry it:
// the pickle (SkyScript's four keys `box`, `time`, `center_tags`, `surrounding_tags`
// with their types, then our extra keys) and the meta.jsonl line (the same, plus the
// file path and the job's captions).
//
// `time` is (year, month, day, hour, minute) of the acquisition when the source tells it
// (Earth Engine); gdal and xyz sources know only the configured year, so `time` is
// (year, 1, 1, 0, 0) and the extra key `time_known` says "year" ("minute" otherwise).

#include "pipeline/state/job.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace skyscript::pipeline {

// Every image's OpenStreetMap terms: ODbL 1.0, credited as the OSMF asks.
inline constexpr const char* osm_licence = "ODbL-1.0";
inline constexpr const char* osm_attribution = "(c) OpenStreetMap contributors";

nlohmann::ordered_json meta_record(const Job& job);
std::string meta_pickle(const Job& job);
std::string meta_json_line(const Job& job); // filepath + the job's caption entries + meta_record, one line

// JSON text of `value` on one line, invalid UTF-8 as U+FFFD, and U+2028, U+2029 and U+0085
// escaped: JSON allows them raw, but Python's str.splitlines() and JavaScript before ES2019
// take them for line ends, which would cut a JSONL record in two.
std::string json_text(const nlohmann::ordered_json& value);

} // namespace skyscript::pipeline
