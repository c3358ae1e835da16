#pragma once
// Reads a small text file (a tag list, a rule list) whole, for the parsers in tag_filters/.

#include <optional>
#include <string>

namespace skyscript::pipeline {

// The file's bytes, or nothing when it cannot be opened or read (the caller names the
// file in its own error).
std::optional<std::string> read_text_file(const std::string& path);

} // namespace skyscript::pipeline
