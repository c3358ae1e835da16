#pragma once
// A scratch file that leaves nothing behind: nameless (O_TMPFILE), or unlinked the moment it
// is created where the file system cannot do that, so its space is freed however the run
// ends, killed included, and no scratch file is ever left in the output folder. The node
// index maps one; sampling in the read notes every row in one (pipeline/sample/row_marks.hpp).

#include <string>

namespace skyscript::osm {

struct ScratchFile {
    int fd = -1;
    // Throws std::system_error naming `dir` when no file can be made there.
    void open_in(const std::string& dir);
    ScratchFile() = default;
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;
    ~ScratchFile();
};

} // namespace skyscript::osm
