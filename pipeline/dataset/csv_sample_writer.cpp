// The `files` format: SkyScript's CSVs in OUT (split_stage.hpp describes them). Columns:
// filepath, then the caption fields of the build's styles in registration order; the
// scored files add similarity_NAME.

#include "pipeline/common/build_dir.hpp"
#include "pipeline/dataset/csv_writer.hpp"
#include "pipeline/dataset/sample_writer.hpp"

#include <filesystem>
#include <set>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

const char* const split_files[3] = {"SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv"};

// SkyScript_*.csv files in OUT that `keep` does not name (an earlier run's scores NAME, or
// all of them when this run writes no CSV), and the temporary files of a killed run.
void remove_split_csvs(const std::string& out_dir, const std::set<std::string>& keep) {
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(out_dir, ec)) {
        const auto name = f.path().filename().string();
        if (name.starts_with("SkyScript_") && ((name.ends_with(".csv") && !keep.count(name)) || name.find(".csv.partial-") != std::string::npos))
            fs::remove(f.path(), ec);
    }
}

struct NamedCsv {
    std::string name;
    std::unique_ptr<CsvWriter> csv;
};

class CsvSampleWriter final : public SampleWriter {
public:
    explicit CsvSampleWriter(const SampleWriterSetup& setup) : out_dir_(setup.out_dir), caption_fields_(setup.caption_fields) {
        std::vector<std::string> header{"filepath"};
        header.insert(header.end(), caption_fields_.begin(), caption_fields_.end());
        for (const char* f : split_files) splits_.push_back(open(f, header));
        if (setup.scores_name.empty()) return;
        auto scored_header = header;
        scored_header.push_back("similarity_" + setup.scores_name);
        for (int p : setup.top_pcts)
            top_.push_back(open("SkyScript_train_top" + std::to_string(p) + "pct_filtered_by_" + setup.scores_name + ".csv", scored_header));
        for (int s : {1, 2})
            filtered_[s] = open(std::string("SkyScript_") + sample_split_names[s] + "_filtered_by_" + setup.scores_name + ".csv", scored_header);
    }

    void write(const Sample& sample) override {
        row_.assign(1, sample.filepath);
        for (const auto& field : caption_fields_) row_.push_back(sample.job.caption(field));
        splits_[sample.split].csv->row(row_);
        if (!sample.score) return;
        row_.push_back(*sample.score);
        for (std::size_t p = 0; p < top_.size(); ++p)
            if (sample.top_bits & (1u << p)) top_[p].csv->row(row_);
        if (sample.split != 0 && sample.above_threshold) filtered_[sample.split].csv->row(row_);
    }

    void finish(WrittenSamples& written) override {
        std::set<std::string> names;
        const auto commit = [&](NamedCsv& f) {
            f.csv->commit();
            written.files.emplace_back(f.name, f.csv->rows());
            names.insert(f.name);
        };
        for (auto& f : splits_) commit(f);
        for (auto& f : top_) commit(f);
        for (int s : {1, 2})
            if (filtered_[s].csv) commit(filtered_[s]);
        remove_split_csvs(out_dir_, names);
    }

private:
    NamedCsv open(const std::string& name, const std::vector<std::string>& header) const {
        return {name, std::make_unique<CsvWriter>(BuildDir(out_dir_).path(name), header)};
    }

    std::string out_dir_;
    std::vector<std::string> caption_fields_;
    std::vector<NamedCsv> splits_; // train, val, test
    std::vector<NamedCsv> top_;    // one per --top-pct percentage
    NamedCsv filtered_[3];         // val, test filtered by the threshold (train unused)
    std::vector<std::string> row_;
};

} // namespace

extern const SampleFormat csv_files_format; // registered in sample_formats.cpp
const SampleFormat csv_files_format{
    "files",
    [](const BuildOptions&) {},
    [](const SampleWriterSetup& setup) -> std::unique_ptr<SampleWriter> { return std::make_unique<CsvSampleWriter>(setup); },
    [](const std::string& out_dir) { remove_split_csvs(out_dir, {}); },
};

} // namespace skyscript::pipeline
