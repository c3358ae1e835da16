#include "pipeline/common/text_file.hpp"

#include "imagery/small_file.hpp"

#include "tag_filters/utf8_text.hpp"

#include <filesystem>

namespace skyscript::pipeline {

std::string file_problem(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) return "no such file";
    // A directory opens as a stream that reads nothing: it would pass for an empty list.
    if (std::filesystem::is_directory(status)) return "is a directory, not a file";
    if (!std::filesystem::is_regular_file(status)) return imagery::not_a_file_words;
    return "";
}

std::optional<std::string> read_text_file(const std::string& path, std::string* why) {
    // A tag or rule list is kilobytes (the built-in vocabulary 34 KB): a 2 GB file of zeros
    // given by mistake held 8 GB for a minute before its error.
    constexpr std::uintmax_t max_bytes = 16u << 20;
    auto file = imagery::read_small_file(path, max_bytes);
    if (file.too_big) file.why = std::to_string(file.size >> 20) + " MB, more than the " + std::to_string(max_bytes >> 20) + " MB a list or a config file may be";
    if (!file.bytes) {
        if (why) *why = std::move(file.why);
        return std::nullopt;
    }
    const auto body = tags::without_bom(*file.bytes);
    return body.size() == file.bytes->size() ? std::move(*file.bytes) : std::string(body);
}

} // namespace skyscript::pipeline
