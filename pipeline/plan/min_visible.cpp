#include "pipeline/plan/min_visible.hpp"

#include "pipeline/common/cli_args.hpp"

#include <cmath>
#include <cstdlib>

namespace skyscript::pipeline {

MinVisible parse_min_visible(const std::string& text) {
    MinVisible m;
    const auto comma = text.find(',');
    char* end = nullptr;
    const std::string area = text.substr(0, comma), line = comma == std::string::npos ? "" : text.substr(comma + 1);
    m.area_px2 = std::strtod(area.c_str(), &end);
    const bool area_ok = !area.empty() && *end == 0 && std::isfinite(m.area_px2) && m.area_px2 >= 0;
    m.line_px = std::strtod(line.c_str(), &end);
    const bool line_ok = !line.empty() && *end == 0 && std::isfinite(m.line_px) && m.line_px >= 0;
    if (!area_ok || !line_ok)
        throw UsageError("--min-visible-px: expected AREA,LINE (px² of an area, px of a line, each >= 0, e.g. 64,16), got `" + text + "`");
    return m;
}

} // namespace skyscript::pipeline
