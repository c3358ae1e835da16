#pragma once
// A scratch file that leaves nothing behind: nameless (O_TMPFILE), or unlinked the moment it
// is created where the file system cannot do that, so its space is freed however the run
// ends, killed included, and no scratch file is ever left in the output folder. The node
// index maps one; sampling in the read keeps its rows (row_spill.hpp) or its notes of every
// row (pipeline/sample/row_marks.hpp) in one, through write_at and read_at.

#include <cstddef>
#include <cstdint>
#include <string>

namespace skyscript::osm {

// All n bytes of `data` at `offset` of `fd`, through interrupted and short writes: 0, or the
// errno that stopped it (ENOSPC for a write that made no progress).
int write_all_at(int fd, std::uint64_t offset, const void* data, std::size_t n) noexcept;

struct ScratchFile {
    int fd = -1;
    // Throws std::system_error naming `dir` when no file can be made there. `what` names the
    // file in the errors of write_at and read_at ("DIR: cannot write WHAT (reason)").
    void open_in(const std::string& dir, std::string what = "a scratch file");
    // All of the n bytes at `offset`; std::runtime_error when they cannot be written (disk full).
    void write_at(std::uint64_t offset, const void* data, std::size_t n) const;
    // The n bytes at `offset`, as written; std::runtime_error on a read error or when the file
    // ends before them.
    void read_at(std::uint64_t offset, void* data, std::size_t n) const;
    // The n bytes at `offset` will not be read again: given back to the file system (a hole
    // punched), so their page cache is freed at once and never written to disk. Best effort:
    // nothing happens where the file system cannot punch holes.
    void release(std::uint64_t offset, std::uint64_t n) const noexcept;
    ScratchFile() = default;
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;
    ~ScratchFile();

private:
    std::string dir_, what_;
};

} // namespace skyscript::osm
