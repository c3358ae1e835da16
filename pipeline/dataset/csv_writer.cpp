#include "pipeline/dataset/csv_writer.hpp"

#include "pipeline/dataset/write_stage.hpp"

namespace skyscript::pipeline {

CsvWriter::CsvWriter(const std::string& path, const std::vector<std::string>& header) : file_(path) {
    row(header);
    rows_ = 0;
}

void CsvWriter::row(const std::vector<std::string>& fields) {
    line_.clear();
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) line_ += ',';
        append_csv_field(line_, fields[i]);
    }
    line_ += '\n';
    file_.append(line_);
    ++rows_;
}

} // namespace skyscript::pipeline
