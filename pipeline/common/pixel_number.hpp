#pragma once
// A pixel coordinate or size as text, rounded to 2 decimals in its shortest form ("23.78",
// "200"): the meta's geometry_px (plan) and the report's outlines drawn from it write the
// same numbers. Valid JSON and SVG; not finite -> "0".

#include <charconv>
#include <cmath>
#include <string>

namespace skyscript::pipeline {

inline void append_pixel_number(std::string& out, double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::isfinite(v) ? std::round(v * 100) / 100 + 0.0 : 0.0);
    out.append(buf, r.ptr);
}

} // namespace skyscript::pipeline
