#pragma once
// --min-visible-px (issue 22): how much of an object around the focus its tile must show
// for the object to be named (visible_extent.hpp measures it).

#include <string>

namespace skyscript::pipeline {

// The smallest visible size an object around the focus needs to be named (--min-visible-px
// "AREA,LINE": px² and px; a point needs only to be in the tile).
struct MinVisible {
    double area_px2 = 64; // 8 x 8 px
    double line_px = 16;
    bool enough(char kind, double px) const noexcept { return kind == 'a' ? px >= area_px2 : kind == 'w' ? px >= line_px : px > 0; }
};
// "64,16" -> MinVisible; throws UsageError naming --min-visible-px on anything else.
MinVisible parse_min_visible(const std::string& text);

} // namespace skyscript::pipeline
