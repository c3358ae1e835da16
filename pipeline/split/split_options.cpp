#include "pipeline/split/split_options.hpp"

#include "pipeline/split/split_assignment.hpp"

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
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
        out.push_back(v);
    }
    if (out.empty()) throw UsageError("--top-pct expects at least one percentage, e.g. 30,50");
    return out;
}

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

std::pair<std::string, std::string> scores_file_and_name(const std::string& spec) {
    const auto comma = spec.rfind(',');
    auto file = comma == std::string::npos ? spec : spec.substr(0, comma);
    auto name = comma == std::string::npos ? std::filesystem::path(file).stem().string() : spec.substr(comma + 1);
    if (file.empty() || name.empty() ||
        name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
        throw UsageError("--scores expects FILE[,NAME] with NAME of letters, digits, _ or - (it names files and a column), got `" + spec + "`");
    return {std::move(file), std::move(name)};
}

void check_split_options(const BuildOptions& options) {
    const double block = options.number("split-block");
    // At least 1e-5 degrees (about a metre): a block's column and row then fit 32 bits.
    if (!(block >= 1e-5 && block <= 180))
        throw UsageError("--split-block expects degrees from 0.00001 to 180, got `" + options.text("split-block") + "`");
    split_size(options.text("val-size"), 0, 0, 0, "val-size");
    split_size(options.text("test-size"), 0, 0, 0, "test-size");
    if (const auto scores = options.text("scores"); !scores.empty()) {
        const auto file = scores_file_and_name(scores).first;
        if (!std::ifstream(file)) throw std::runtime_error(file + ": cannot open the scores file (--scores)");
    }
    top_percentages(options.text("top-pct"));
    const auto format = options.text("format");
    if (format != "files" && format != "webdataset" && format != "both")
        throw UsageError("--format expects files, webdataset or both, got `" + format + "`");
    shard_bounds(options.text("shard-size"));
    if (options.integer("per-class") < 0) throw UsageError("--per-class expects 0 (no cap) or a positive count");
}

} // namespace skyscript::pipeline
