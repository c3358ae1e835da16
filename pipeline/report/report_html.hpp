#pragma once
// OUT/report.html: one self-contained page (inline CSS, SVG and a few lines of plain
// JavaScript; no CDN, no server) that shows a ReportData to people: the headline numbers
// (the same as report.json's), charts, a map of the image boxes, a seeded gallery with
// both captions (relative links to OUT's JPEGs), failures, stage timings and options.

#include "pipeline/report/report_data.hpp"

#include <string>

namespace skyscript::pipeline {

std::string report_html(const ReportData& r);

} // namespace skyscript::pipeline
