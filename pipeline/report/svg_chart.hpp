#pragma once
// The report's charts as inline SVG (no script, no library, opens offline): horizontal
// bars, the focus-tag frequency curve (the paper's Fig. 4b) and a map of image boxes on a
// lon/lat frame. Each returns one <svg> element that scales with the page (viewBox).

#include "pipeline/report/report_data.hpp"

#include <string>
#include <vector>

namespace skyscript::pipeline {

struct Bar {
    std::string label;
    double value = 0;
    std::string colour; // "" = the default
    std::string value_text; // "" = the value with thousands separators
};

std::string bar_chart_svg(const std::string& id, const std::vector<Bar>& bars);
// Tags with at least N images against N (log scale), marks at 100 and 1,000.
std::string tag_curve_svg(const std::string& id, const std::vector<TagCurvePoint>& curve);
// Boxes (west, south, east, north) coloured by their source (`colours`: source -> colour),
// over the failed jobs' boxes as dashed grey outlines.
std::string box_map_svg(const std::string& id, const std::vector<ReportImage>& boxes, const std::vector<ReportImage>& failed,
                        const std::map<std::string, std::string>& colours);

// A colour per source, stable for a given list of sources.
std::map<std::string, std::string> source_colours(const std::vector<std::string>& sources);

} // namespace skyscript::pipeline
