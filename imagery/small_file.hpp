#pragma once
// A small file a user names (a sources file, a tag or rule list, a prompt template) read whole:
// opened without blocking and looked at before it is read, so a FIFO never blocks the run and
// /dev/zero is not read for ever; over its size limit it is not read at all. The one reader of
// such files: imagery/ reads the sources file, pipeline/common/text_file.hpp the lists.

#include <cstdint>
#include <optional>
#include <string>

namespace skyscript::imagery {

struct SmallFile {
    std::optional<std::string> bytes; // nullopt: `why` says why
    std::string why;                  // "no such file", "is a directory, not a file", "is a pipe or a device, ...", an errno's words
    std::uintmax_t size = 0;          // its size when it is over the limit (`too_big`)
    bool too_big = false;             // over `max_bytes`: the caller says what its limit is for
};

SmallFile read_small_file(const std::string& path, std::uintmax_t max_bytes);

// The words for a pipe, a socket or a device where a file is expected (`<(cmd)` or a FIFO would
// block the run until something writes it, and a later run reads the same path again).
inline constexpr const char* not_a_file_words = "is a pipe or a device, not a file; a later run reads it again: save it to a file";

} // namespace skyscript::imagery
