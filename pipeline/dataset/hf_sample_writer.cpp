// The `hf` format: the Hugging Face Hub's ImageFolder layout with metadata, as the `datasets`
// documentation describes image datasets: OUT/hf/{train,validation,test}/STEM.jpg (hard links
// to the images, copies across file systems) and in each folder a metadata.jsonl whose
// `file_name` names the image relative to it, followed by the image's captions and its meta
// record in the form Arrow reads (hub_record.hpp: one type per column in every row and split). `datasets.load_dataset("imagefolder",
// data_dir="OUT/hf")` or the Hub's viewer reads it as three splits. Folders are named as the
// Hub names splits (`validation`, not `val`). A rerun fills new folders beside the old ones
// (hf/SPLIT.next) and swaps each in whole at the end (renameat2's RENAME_EXCHANGE), so a split
// that fails or is killed leaves the last complete folders in place: no list of names is kept,
// so memory stays flat, and each metadata.jsonl appears at once, complete.

#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/dataset/hub_record.hpp"
#include "pipeline/dataset/sample_writer.hpp"

#include <fcntl.h>
#include <stdio.h>

#include <filesystem>
#include <memory>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr const char* hf_split_names[3] = {"train", "validation", "test"};

std::string hf_dir(const std::string& out_dir) { return BuildDir(out_dir).path("hf"); }

class HfSampleWriter final : public SampleWriter {
public:
    explicit HfSampleWriter(const SampleWriterSetup& setup) : out_dir_(setup.out_dir), caption_fields_(setup.caption_fields) {
        for (int s = 0; s < 3; ++s) {
            const auto dir = hf_dir(out_dir_) + "/" + hf_split_names[s];
            std::error_code ec;
            fs::remove_all(dir + ".next", ec); // a killed run's, unfinished or not swapped in
            // An earlier version moved the folder aside first: a run killed then left only that copy.
            if (!fs::exists(dir + "/metadata.jsonl") && fs::exists(dir + ".previous/metadata.jsonl")) {
                fs::remove_all(dir, ec); // the half-filled one
                fs::rename(dir + ".previous", dir);
            }
            fs::remove_all(dir + ".previous", ec);
            BuildDir(out_dir_).own_dir(std::string("hf/") + hf_split_names[s] + ".next");
            metadata_[s] = std::make_unique<AtomicFileWriter>(dir + ".next/metadata.jsonl");
        }
    }

    void write(const Sample& sample) override {
        const auto name = fs::path(sample.filepath).filename().string();
        const auto dir = hf_dir(out_dir_) + "/" + hf_split_names[sample.split] + ".next";
        place_file(BuildDir(out_dir_).path(sample.filepath), dir + "/" + name);
        metadata_[sample.split]->append(hub_record_line(sample.job, "file_name", name, caption_fields_));
        ++rows_[sample.split];
    }

    void finish(WrittenSamples& written) override {
        for (int s = 0; s < 3; ++s) {
            metadata_[s]->commit();
            swap_in(hf_dir(out_dir_) + "/" + hf_split_names[s]);
            written.files.emplace_back(std::string("hf/") + hf_split_names[s] + "/metadata.jsonl", rows_[s]);
        }
    }

private:
    // DIR.next, complete, becomes DIR in one step; the old DIR goes.
    static void swap_in(const std::string& dir) {
        const auto next = dir + ".next";
        std::error_code ec;
        if (!fs::exists(dir)) {
            fs::rename(next, dir);
            return;
        }
        if (::renameat2(AT_FDCWD, next.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) { // a file system without it: two steps
            fs::rename(dir, dir + ".previous");
            fs::rename(next, dir);
            fs::remove_all(dir + ".previous", ec);
            return;
        }
        fs::remove_all(next, ec); // the old folder, swapped out
    }

    std::string out_dir_;
    std::vector<std::string> caption_fields_;
    std::unique_ptr<AtomicFileWriter> metadata_[3];
    std::int64_t rows_[3] = {0, 0, 0};
};

} // namespace

extern const SampleFormat hf_format; // registered in sample_formats.cpp
const SampleFormat hf_format{
    "hf",
    [](const BuildOptions&) {},
    [](const SampleWriterSetup& setup) -> std::unique_ptr<SampleWriter> { return std::make_unique<HfSampleWriter>(setup); },
    [](const std::string& out_dir) {
        std::error_code ec;
        fs::remove_all(hf_dir(out_dir), ec);
    },
    "files",
};

} // namespace skyscript::pipeline
