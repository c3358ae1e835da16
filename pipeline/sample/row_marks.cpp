#include "pipeline/sample/row_marks.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

namespace skyscript::pipeline {

RowMarks::RowMarks(const std::string& scratch_dir) : dir_(scratch_dir) {
    file_.open_in(scratch_dir);
    buffer_.reserve(buffer_rows);
}

void RowMarks::flush() {
    const auto* p = reinterpret_cast<const char*>(buffer_.data());
    std::size_t left = buffer_.size() * sizeof(RowMark);
    const auto offset = static_cast<off_t>(written_) * static_cast<off_t>(sizeof(RowMark));
    for (std::size_t done = 0; left > 0;) {
        const auto n = ::pwrite(file_.fd, p + done, left, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(dir_ + ": cannot write the read sample's scratch file (" + std::strerror(n < 0 ? errno : ENOSPC) + ")");
        done += static_cast<std::size_t>(n), left -= static_cast<std::size_t>(n);
    }
    written_ += static_cast<std::int64_t>(buffer_.size());
    buffer_.clear();
}

void RowMarks::for_each(const std::function<void(const RowMark&, std::int64_t)>& fn) {
    flush();
    std::vector<RowMark> chunk(buffer_rows);
    for (std::int64_t first = 0; first < written_;) {
        const auto rows = static_cast<std::size_t>(std::min<std::int64_t>(written_ - first, static_cast<std::int64_t>(buffer_rows)));
        auto* p = reinterpret_cast<char*>(chunk.data());
        const auto offset = static_cast<off_t>(first) * static_cast<off_t>(sizeof(RowMark));
        for (std::size_t done = 0, left = rows * sizeof(RowMark); left > 0;) {
            const auto n = ::pread(file_.fd, p + done, left, offset + static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error(dir_ + ": cannot read the read sample's scratch file back (" + std::strerror(n < 0 ? errno : EIO) + ")");
            done += static_cast<std::size_t>(n), left -= static_cast<std::size_t>(n);
        }
        for (std::size_t i = 0; i < rows; ++i) fn(chunk[i], first + static_cast<std::int64_t>(i) + 1);
        first += static_cast<std::int64_t>(rows);
    }
}

} // namespace skyscript::pipeline
