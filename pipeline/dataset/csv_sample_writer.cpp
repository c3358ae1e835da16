// The `files` format: SkyScript's CSVs in OUT (split_stage.hpp describes them). Columns:
// filepath, then the caption fields of the build's styles in registration order; the
// scored files add similarity_NAME. A polished build (title_polished among the fields) also
// writes each file as SkyScript names its polished CSVs, X_language_polished.csv: filepath,
// title, title_multi_objects holding the polished texts (drop-in for a trainer reading
// `title`), the scored ones with similarity_NAME; only images with both texts.

#include "captions/caption_styles.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/dataset/csv_writer.hpp"
#include "pipeline/dataset/sample_writer.hpp"

#include <algorithm>
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
    std::unique_ptr<NamedCsv> polished; // its X_language_polished.csv, in a polished build
};

std::string polished_name(const std::string& name) { return name.substr(0, name.size() - 4) + "_language_polished.csv"; }

class CsvSampleWriter final : public SampleWriter {
public:
    explicit CsvSampleWriter(const SampleWriterSetup& setup) : out_dir_(setup.out_dir), caption_fields_(setup.caption_fields) {
        for (const auto field : captions::polished_caption_fields()) {
            const auto at = std::find(caption_fields_.begin(), caption_fields_.end(), field);
            if (at == caption_fields_.end()) break;
            polished_columns_.push_back(static_cast<std::size_t>(at - caption_fields_.begin()));
            polished_header_.emplace_back(captions::polished_source_field(field));
        }
        if (polished_columns_.size() != captions::polished_caption_fields().size()) polished_columns_.clear();
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
        polished_row_.clear();
        if (!polished_columns_.empty()) {
            polished_row_.push_back(sample.filepath);
            for (const auto c : polished_columns_)
                if (!row_[c + 1].empty()) polished_row_.push_back(row_[c + 1]);
            if (polished_row_.size() != polished_columns_.size() + 1) polished_row_.clear(); // not (all) polished: not in those files
        }
        put(splits_[sample.split]);
        if (!sample.score) return;
        row_.push_back(*sample.score);
        if (!polished_row_.empty()) polished_row_.push_back(*sample.score);
        for (std::size_t p = 0; p < top_.size(); ++p)
            if (sample.top_bits & (1u << p)) put(top_[p]);
        if (sample.split != 0 && sample.above_threshold) put(filtered_[sample.split]);
    }

    void finish(WrittenSamples& written) override {
        std::set<std::string> names;
        const auto commit = [&](NamedCsv& f) {
            f.csv->commit();
            written.files.emplace_back(f.name, f.csv->rows());
            names.insert(f.name);
            if (!f.polished) return;
            f.polished->csv->commit();
            written.files.emplace_back(f.polished->name, f.polished->csv->rows());
            names.insert(f.polished->name);
        };
        for (auto& f : splits_) commit(f);
        for (auto& f : top_) commit(f);
        for (int s : {1, 2})
            if (filtered_[s].csv) commit(filtered_[s]);
        remove_split_csvs(out_dir_, names);
    }

private:
    NamedCsv open(const std::string& name, const std::vector<std::string>& header) const {
        NamedCsv f{name, std::make_unique<CsvWriter>(BuildDir(out_dir_).path(name), header), nullptr};
        if (!polished_columns_.empty()) {
            auto polished_header = polished_header_;
            polished_header.insert(polished_header.begin(), "filepath");
            if (header.back().starts_with("similarity_")) polished_header.push_back(header.back());
            const auto p = polished_name(name);
            f.polished = std::make_unique<NamedCsv>(NamedCsv{p, std::make_unique<CsvWriter>(BuildDir(out_dir_).path(p), polished_header), nullptr});
        }
        return f;
    }

    void put(NamedCsv& f) {
        f.csv->row(row_);
        if (f.polished && !polished_row_.empty()) f.polished->csv->row(polished_row_);
    }

    std::string out_dir_;
    std::vector<std::string> caption_fields_;
    std::vector<NamedCsv> splits_; // train, val, test
    std::vector<NamedCsv> top_;    // one per --top-pct percentage
    NamedCsv filtered_[3];         // val, test filtered by the threshold (train unused)
    std::vector<std::string> row_, polished_row_;
    std::vector<std::size_t> polished_columns_; // where title_polished, title_multi_objects_polished are among caption_fields_
    std::vector<std::string> polished_header_;  // title, title_multi_objects
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
