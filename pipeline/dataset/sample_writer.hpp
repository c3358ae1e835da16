#pragma once
// One output format of the split stage (img2dataset's writer.py, libosmium's output
// formats): the written images, each with its split, made into files. A format's
// begin() prepares its files, write() takes the images one at a time in job order, and
// finish() makes them visible under their final names, each at once (atomic_file.hpp), and
// removes what an earlier run of the format left. Formats are registered in
// sample_formats.cpp and picked by --format.

#include "pipeline/common/build_options.hpp"
#include "pipeline/state/job.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// The splits, as the formats name them; a sample's `split` indexes this.
inline constexpr const char* sample_split_names[3] = {"train", "val", "test"};

// One written image.
struct Sample {
    const Job& job;
    const std::string& filepath; // imagesK/STEM.jpg, relative to OUT
    int split = 0;               // sample_split_names
    // With --scores: the image's score as written in the scores file (nullptr: it has none),
    // the train top-P% selections it is in (bit p: the p-th of SampleWriterSetup::top_pcts),
    // and whether it reaches the val/test threshold (the first selection's lowest score).
    const std::string* score = nullptr;
    std::uint32_t top_bits = 0;
    bool above_threshold = false;
};

// What every format is told when it begins.
struct SampleWriterSetup {
    std::string out_dir;
    const BuildOptions& options;             // a format's own options (--shard-size)
    std::vector<std::string> caption_fields; // the registered styles' fields this build writes (captions/caption_styles.hpp)
    std::string scores_name;                 // --scores NAME, "" without scores
    std::vector<int> top_pcts;               // --top-pct, with scores
};

// What the formats wrote, for the split's summary lines.
struct WrittenSamples {
    std::vector<std::pair<std::string, std::int64_t>> files; // file in OUT -> rows
    std::int64_t shards = 0;
};

class SampleWriter {
public:
    virtual ~SampleWriter() = default; // destroyed unfinished, it leaves no file under a final name
    virtual void write(const Sample& sample) = 0;
    virtual void finish(WrittenSamples& written) = 0;
};

// A registered format.
struct SampleFormat {
    std::string_view name; // --format NAME
    // Throws UsageError for a bad value of the format's own options (checked whatever --format is).
    void (*check_options)(const BuildOptions& options);
    std::unique_ptr<SampleWriter> (*begin)(const SampleWriterSetup& setup);
    // Removes an earlier run's files of this format from OUT (this run writes another format).
    void (*remove)(const std::string& out_dir);
    // A format always written with this one ("files" for coco: its annotations index the images the CSVs list).
    std::string_view companion = {};
};

} // namespace skyscript::pipeline
