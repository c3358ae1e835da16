#include "pipeline/split/split_options.hpp"

#include "pipeline/dataset/sample_formats.hpp"
#include "pipeline/split/split_assignment.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace skyscript::pipeline {

std::vector<int> top_percentages(const std::string& spec) {
    std::vector<int> out;
    std::stringstream in(spec);
    for (std::string item; std::getline(in, item, ',');) {
        int v = 0;
        const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc{} || p != item.data() + item.size() || v < 1 || v > 100)
            throw UsageError("--top-pct expects percentages 1-100 separated by commas (e.g. 30,50), got `" + spec + "`");
        // Each names a file and a bit of the sample writers' mask: twice would write one file twice.
        if (std::find(out.begin(), out.end(), v) != out.end()) throw UsageError("--top-pct names " + std::to_string(v) + " twice, in `" + spec + "`");
        out.push_back(v);
    }
    if (out.empty()) throw UsageError("--top-pct expects at least one percentage, e.g. 30,50");
    return out;
}

std::pair<std::string, std::string> scores_file_and_name(const std::string& spec) {
    // NAME is part of file names (SkyScript_train_top30pct_filtered_by_NAME.csv): 64 characters at most.
    const char* const rule = "a NAME of at most 64 letters, digits, _ or - (it names files and a column)";
    const auto comma = spec.rfind(',');
    if (comma == 0 || spec.empty()) throw UsageError("--scores " + spec + ": no FILE (expected FILE[,NAME])");
    if (comma != std::string::npos && is_scores_name(std::string_view(spec).substr(comma + 1)))
        return {spec.substr(0, comma), spec.substr(comma + 1)};
    // No valid NAME after the comma, and no file of that whole name but one before the comma:
    // a NAME given wrongly (red-team round 33: "clip.csv,a/b" said "cannot open the scores
    // file clip.csv,a/b").
    // Looked at, not opened: a FIFO before the comma blocked the open (review of round 33).
    std::error_code ec;
    if (comma != std::string::npos && !std::filesystem::exists(spec, ec) && std::filesystem::is_regular_file(spec.substr(0, comma), ec))
        throw UsageError("--scores " + spec + ": `" + spec.substr(comma + 1) + "` after the comma is not " + rule);
    // Otherwise all of it is FILE, named by its file name without extension.
    auto name = std::filesystem::path(spec).stem().string();
    if (is_scores_name(name)) return {spec, std::move(name)};
    throw UsageError("--scores " + spec + ": the file's name without extension, `" + name + "`, is not " + rule +
                     "; give one: --scores FILE,NAME");
}

void check_split_options(const BuildOptions& options) {
    // At least 1e-5 degrees (about a metre): a block's column and row then fit 32 bits.
    if (const double block = options.text("split-block") == "auto" ? 0.05 : options.number("split-block"); !(block >= 1e-5 && block <= 180))
        throw UsageError("--split-block expects degrees from 0.00001 to 180, got `" + options.text("split-block") + "`");
    split_size(options.text("val-size"), 0, 0, 0, "val-size");
    split_size(options.text("test-size"), 0, 0, 0, "test-size");
    // Shares that leave training nothing: refused before anything is split (60% and 60% gave
    // a train split of one group, 29 images of 4,169, with exit 0: red-team round 31).
    // auto counts at its share (2% and 10%, SkyScript's caps aside); a count is held to the
    // images at split time.
    const auto val = options.text("val-size"), test = options.text("test-size");
    const auto share = [](const std::string& spec, double auto_share) -> std::optional<double> {
        if (spec == "auto") return auto_share;
        if (spec.ends_with('%')) { // as split_size read it (std::stod threw on 1e-320%)
            double v = 0;
            std::from_chars(spec.data(), spec.data() + spec.size() - 1, v);
            return v / 100;
        }
        return std::nullopt;
    };
    if (const auto v = share(val, 0.02), t = share(test, 0.10); v && t && *v + *t >= 1)
        throw UsageError("--val-size " + val + " and --test-size " + test + " ask for every image or more: the training split would have none");
    if (const auto scores = options.text("scores"); !scores.empty()) {
        const auto file = scores_file_and_name(scores).first;
        if (!std::ifstream(file)) throw std::runtime_error(file + ": cannot open the scores file (--scores)");
    }
    top_percentages(options.text("top-pct"));
    const auto format = options.text("format");
    if (formats_named(format).empty()) throw UsageError("--format expects " + format_choices() + ", got `" + format + "`");
    for (const auto* f : sample_formats()) f->check_options(options);
    if (options.integer("per-class") < 0) throw UsageError("--per-class expects 0 (no cap) or a positive count");
}

} // namespace skyscript::pipeline
