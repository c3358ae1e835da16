// The `webdataset` format: OUT/webdataset/{train,val,test}/ tar shards (webdataset_writer.hpp),
// a sample's members {stem}.jpg (the image), {stem}.txt (its first caption field: the rule
// style's title) and {stem}.json (its filepath, captions and record in the form Arrow reads,
// as the hf format's rows: hub_record.hpp; Hugging Face's webdataset loader reads them), a new
// shard every --shard-size.

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/dataset/hub_record.hpp"
#include "pipeline/dataset/sample_writer.hpp"
#include "pipeline/dataset/webdataset_writer.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// --shard-size: {samples, 0} for "10000", {0, bytes} for "500MB" (B, KB, MB, GB).
std::pair<std::int64_t, std::int64_t> shard_bounds(const std::string& spec) {
    std::size_t digits = 0;
    while (digits < spec.size() && std::isdigit(static_cast<unsigned char>(spec[digits]))) ++digits;
    static const std::map<std::string, std::int64_t> units{{"", 0}, {"B", 1}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
    const auto u = units.find(spec.substr(digits));
    std::int64_t n = 0;
    const auto [p, ec] = std::from_chars(spec.data(), spec.data() + digits, n);
    if (digits == 0 || u == units.end() || ec != std::errc{} || n <= 0 || n > (INT64_MAX / 1000000000))
        throw UsageError("--shard-size expects a sample count or a size in B, KB, MB or GB (e.g. 10000, 500MB), got `" + spec + "`");
    return u->second == 0 ? std::pair<std::int64_t, std::int64_t>{n, 0} : std::pair<std::int64_t, std::int64_t>{0, n * u->second};
}

std::string read_binary(const std::string& path) {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read the image for the webdataset shard" + (errno ? " (" + std::string(std::strerror(errno)) + ")" : std::string()));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class WebDatasetSampleWriter final : public SampleWriter {
public:
    explicit WebDatasetSampleWriter(const SampleWriterSetup& setup)
        : out_dir_(setup.out_dir), caption_field_(setup.caption_fields.at(0)), caption_fields_(setup.caption_fields) {
        const auto [max_samples, max_bytes] = shard_bounds(setup.options.text("shard-size"));
        for (const char* s : sample_split_names)
            tars_.push_back(std::make_unique<WebDatasetWriter>(BuildDir(out_dir_).own_dir(std::string("webdataset/") + s), max_samples, max_bytes));
    }

    void write(const Sample& sample) override {
        const auto jpg = read_binary(BuildDir(out_dir_).path(sample.filepath));
        auto json = hub_record_line(sample.job, "filepath", sample.filepath, caption_fields_);
        json.pop_back(); // the newline
        tars_[sample.split]->add(sample.job.stem, {{"jpg", jpg}, {"txt", sample.job.caption(caption_field_)}, {"json", json}});
    }

    void finish(WrittenSamples& written) override {
        for (auto& t : tars_) {
            t->finish();
            written.shards += static_cast<std::int64_t>(t->shards().size());
        }
    }

private:
    std::string out_dir_, caption_field_;
    std::vector<std::string> caption_fields_;
    std::vector<std::unique_ptr<WebDatasetWriter>> tars_; // train, val, test
};

} // namespace

extern const SampleFormat webdataset_format; // registered in sample_formats.cpp
const SampleFormat webdataset_format{
    "webdataset",
    [](const BuildOptions& options) { shard_bounds(options.text("shard-size")); },
    [](const SampleWriterSetup& setup) -> std::unique_ptr<SampleWriter> { return std::make_unique<WebDatasetSampleWriter>(setup); },
    [](const std::string& out_dir) {
        std::error_code ec;
        fs::remove_all(BuildDir(out_dir).webdataset(), ec);
    },
};

} // namespace skyscript::pipeline
