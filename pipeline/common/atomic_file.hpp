#pragma once
// Nothing half-written is ever visible under its final name (docs/reliability.md): a file is
// written under `NAME.partial-PID-N` in the same folder, then renamed over NAME (atomic
// on POSIX). A killed run leaves at most `.partial-` files, which remove_partial_files
// clears before the next run writes there.

#include <string>
#include <string_view>

namespace skyscript::pipeline {

// Throws std::runtime_error naming `path` (disk full, permission, ...).
void write_file_atomically(const std::string& path, std::string_view bytes);

// The same, streamed (a CSV of millions of rows): append, then commit(); destroyed
// without commit(), the temporary file is removed and `path` is untouched.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
    void append(std::string_view bytes);
    void commit();

private:
    void flush();
    std::string path_, tmp_, buffer_;
    int fd_ = -1;
};

// Removes `*.partial-*` files left in `dir` by a killed run (not those of another process
// still running: a `report` beside a build); returns how many.
std::size_t remove_partial_files(const std::string& dir);

// Removes the `PATH.partial-PID-0` (and `PATH.partial-PID.tif`) files a killed lone writer of
// `path` left beside it, and only those: a tool writing into a user's folder (fetch-one -o)
// touches no other file there.
std::size_t remove_partial_files_of(const std::string& path);

} // namespace skyscript::pipeline
