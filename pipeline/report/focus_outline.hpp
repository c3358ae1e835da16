#pragma once
// The focus object's outline over its image in the report's gallery (issue 22): the meta's
// `objects` (the focus first, geometry_px in the image's pixels) made into one SVG path, so
// a person sees at a glance that the pixels and the caption agree.

#include <string>
#include <string_view>

namespace skyscript::pipeline {

struct FocusOutline {
    std::string path; // SVG path data in pixels ("" when the focus has no pixels)
    char kind = 0;    // 'a' area (rings, closed), 'w' line (parts), 'n' point (a ring around it)
};

// From the jobs' `objects` JSON; malformed or empty text gives no outline.
FocusOutline focus_outline(std::string_view objects_json, int image_size);

} // namespace skyscript::pipeline
