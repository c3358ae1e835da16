#pragma once
// What a build publishes about itself, made from the report's numbers (report_data.hpp) on
// every report run, byte-identical when nothing changed (no clock in them):
//   OUT/README.md      the Hugging Face dataset card: a YAML header (licence `other` with the
//                      list, tasks, size category, a config per format written) and what the
//                      dataset is, how it was built, counts by source, year, GSD and focus
//                      tag, the splits, every licence and attribution with its images, limits;
//   OUT/croissant.json MLCommons Croissant 1.0 JSON-LD: the CSVs (with sha256), the images,
//                      a record set per split.

#include "pipeline/report/report_data.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// A config of the card's header: its files by split (the Hub's split names).
struct CardConfig {
    std::string name, format;
    std::vector<std::pair<std::string, std::string>> files;
};
std::vector<CardConfig> card_configs(const ReportData& r);

std::string dataset_card(const ReportData& r);
nlohmann::ordered_json croissant(const ReportData& r);

} // namespace skyscript::pipeline
