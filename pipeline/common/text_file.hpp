#pragma once
// Reads a small text file (a tag list, a rule list, a --config file) whole, for its parser.

#include <optional>
#include <string>

namespace skyscript::pipeline {

// The file's bytes without a leading UTF-8 byte order mark (which would glue itself to the
// first entry), or nothing when it cannot be read: missing, a directory, not readable, over
// 16 MB (a list is kilobytes), a read error. `why`, when given, receives the reason for the caller's one-line error
// (which names the file and what it was for).
std::optional<std::string> read_text_file(const std::string& path, std::string* why = nullptr);

// Why `path` cannot be a file the build reads, "" when it can: missing, a directory, or not a
// regular file (a pipe, a socket, a device: `<(cmd)` or a FIFO would block the run until
// something writes it, and a later run reads the same path again).
std::string file_problem(const std::string& path);

} // namespace skyscript::pipeline
