#pragma once
// Text for the HTML report: escaping (every string from OSM tags, reasons and options goes
// through it) and numbers as people read them.

#include <cstdint>
#include <string>
#include <string_view>

namespace skyscript::pipeline {

std::string html_escape(std::string_view text); // & < > " ' and C0 controls as references, invalid UTF-8 and C1 controls as U+FFFD
std::string thousands(std::int64_t n);          // 1234567 -> "1,234,567"
std::string fixed(double v, int decimals);      // 12.345, 1 -> "12.3"

} // namespace skyscript::pipeline
