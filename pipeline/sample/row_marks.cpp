#include "pipeline/sample/row_marks.hpp"

#include <algorithm>

namespace skyscript::pipeline {

RowMarks::RowMarks(const std::string& scratch_dir) {
    file_.open_in(scratch_dir, "the read sample's scratch file");
    buffer_.reserve(buffer_rows);
}

void RowMarks::flush() {
    file_.write_at(static_cast<std::uint64_t>(written_) * sizeof(RowMark), buffer_.data(), buffer_.size() * sizeof(RowMark));
    written_ += static_cast<std::int64_t>(buffer_.size());
    buffer_.clear();
}

void RowMarks::for_each(const std::function<void(const RowMark&, std::int64_t)>& fn) {
    flush();
    std::vector<RowMark> chunk(buffer_rows);
    for (std::int64_t first = 0; first < written_;) {
        const auto rows = static_cast<std::size_t>(std::min<std::int64_t>(written_ - first, static_cast<std::int64_t>(buffer_rows)));
        file_.read_at(static_cast<std::uint64_t>(first) * sizeof(RowMark), chunk.data(), rows * sizeof(RowMark));
        for (std::size_t i = 0; i < rows; ++i) fn(chunk[i], first + static_cast<std::int64_t>(i) + 1);
        first += static_cast<std::int64_t>(rows);
    }
}

} // namespace skyscript::pipeline
