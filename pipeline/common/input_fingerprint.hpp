#pragma once
// What tells an input that moved from one that changed: a digest of its size and of its
// first and last MiB. A PBF begins with its header (bounding box, replication time) and
// its first blocks, and ends with its highest ids; two files equal there and in size but
// not elsewhere are not met in practice, while a digest of the whole file would read a
// planet (90 GB) on every run. A build resumed with its input moved or renamed goes on;
// one whose input was replaced is refused (open_build_session).

#include <string>

namespace skyscript::pipeline {

// 16 hex digits; "" when `path` is not a readable regular file.
std::string input_fingerprint(const std::string& path);

} // namespace skyscript::pipeline
