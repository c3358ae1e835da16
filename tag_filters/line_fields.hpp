#pragma once
// The line syntax the tag_filters data files share (tag lists, hidden rules): one record a
// line, fields separated by tabs or spaces, `#` starts a comment, CRLF and a leading UTF-8
// byte order mark accepted.

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace skyscript::tags {

// Calls `record(line_no, fields)` for every line with at least one field (lines count from 1).
void for_each_record(std::string_view text,
                     const std::function<void(std::size_t line_no, const std::vector<std::string_view>& fields)>& record);

} // namespace skyscript::tags
