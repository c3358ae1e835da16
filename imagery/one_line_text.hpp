#pragma once
// Text from outside (a server's error page quoted by GDAL, a TOML parser's echo of a value)
// reaching a message, a job's reason, the state DB or a terminal: one line, no control
// character (an ESC sequence would retitle or clear the terminal), and bounded (GDAL quotes a
// 400 MB capabilities document whole).

#include <cstddef>
#include <string>
#include <string_view>

namespace skyscript::imagery {

// `text` with each C0 control, DEL and C1 control (U+0080..U+009F) written as \xNN (a line
// break as \n, U+2028 and U+2029 as \u2028, \u2029), cut to at most `max_bytes` bytes of
// `text` with " [...]" after. Other bytes pass as they are (JSON and HTML writers downstream
// replace invalid UTF-8).
std::string one_line_text(std::string_view text, std::size_t max_bytes = 2000);

} // namespace skyscript::imagery
