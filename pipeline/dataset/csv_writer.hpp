#pragma once
// A CSV file written atomically (RFC 4180 fields by write_stage.hpp's append_csv_field):
// the split's and the benchmarks' files. Destroyed without commit(), nothing is left.

#include "pipeline/common/atomic_file.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::pipeline {

class CsvWriter {
public:
    CsvWriter(const std::string& path, const std::vector<std::string>& header);
    void row(const std::vector<std::string>& fields);
    void commit() { file_.commit(); }
    std::int64_t rows() const noexcept { return rows_; }

private:
    AtomicFileWriter file_;
    std::string line_;
    std::int64_t rows_ = 0;
};

} // namespace skyscript::pipeline
