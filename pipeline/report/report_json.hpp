#pragma once
// OUT/report.json: the numbers of a ReportData for scripts (schema "skyscript-build report 1").

#include "pipeline/report/report_data.hpp"

#include <nlohmann/json.hpp>

namespace skyscript::pipeline {

nlohmann::json report_json(const ReportData& r);

} // namespace skyscript::pipeline
