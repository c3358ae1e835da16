#pragma once
// A file of one folder made to appear in another without copying where possible: a hard
// link on the same file system, a copy across file systems (written under a temporary
// name, then renamed, so a killed run never leaves half a file under the final name).
// Used for a shared catalog (--catalog) and by `merge` for the shards' images and meta.

#include <cstdint>
#include <optional>
#include <string>

namespace skyscript::pipeline {

enum class Placement { present, linked, copied };

// Makes `to` a file with `from`'s bytes; `from` must be a regular file, not a link (callers
// that take a user's path, --catalog, resolve it first). A `to` that is already `from` (same inode) or has
// its bytes is left alone (present); one with other bytes is replaced. Throws naming the
// file on failure.
Placement place_file(const std::string& from, const std::string& to);

// The size of `path` when it is a file as a build places it: a regular file, not a link (one
// to a file of the same size outside OUT would bring that file's bytes into the dataset), not
// empty, and of `bytes` where that is >= 0 (the size recorded when it was written: a cut or
// replaced file is not the one written). Nothing otherwise.
std::optional<std::uint64_t> placed_size(const std::string& path, std::int64_t bytes = -1);

} // namespace skyscript::pipeline
