#pragma once
// What the first read of sampling in the read notes of every row for the second (issue 25):
// its object, box and cell, appended in reading order (the row's place is its fid) to a
// scratch file, 48 bytes a row (about 48 GB for the planet's billion rows, against the
// ~350 GB of a full catalog), and read back once the sample is drawn.

#include "osm/catalog_row.hpp"
#include "osm/scratch_file.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct RowMark {
    osm::Box box;
    std::int64_t osm_id;
    std::uint32_t cell; // cell_of(rep point): below 648 M
    char osm_type;
};

class RowMarks {
public:
    // In `scratch_dir`: a nameless file (osm::ScratchFile).
    explicit RowMarks(const std::string& scratch_dir);

    void add(const RowMark& mark) {
        buffer_.push_back(mark);
        if (buffer_.size() == buffer_rows) flush();
    }
    std::int64_t size() const noexcept { return written_ + static_cast<std::int64_t>(buffer_.size()); }
    // fn(mark, fid) for every mark in order (fids 1, 2, ...).
    void for_each(const std::function<void(const RowMark&, std::int64_t fid)>& fn);

private:
    static constexpr std::size_t buffer_rows = 1 << 14;
    void flush();
    osm::ScratchFile file_;
    std::vector<RowMark> buffer_;
    std::int64_t written_ = 0;
};

} // namespace skyscript::pipeline
