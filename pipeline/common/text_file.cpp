#include "pipeline/common/text_file.hpp"

#include "tag_filters/utf8_text.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace skyscript::pipeline {

std::string file_problem(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) return "no such file";
    // A directory opens as a stream that reads nothing: it would pass for an empty list.
    if (std::filesystem::is_directory(status)) return "is a directory, not a file";
    if (!std::filesystem::is_regular_file(status)) return "is a pipe or a device, not a file; a later run reads it again: save it to a file";
    return "";
}

std::optional<std::string> read_text_file(const std::string& path, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<std::string> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    if (auto problem = file_problem(path); !problem.empty()) return fail(std::move(problem));
    // Read whole: a tag or rule list is kilobytes (the built-in vocabulary 34 KB), and a 2 GB
    // file of zeros given by mistake held 8 GB for a minute before its error.
    constexpr std::uintmax_t max_bytes = 16u << 20;
    std::error_code ec;
    if (const auto size = std::filesystem::file_size(path, ec); !ec && size > max_bytes)
        return fail(std::to_string(size >> 20) + " MB, more than a list's " + std::to_string(max_bytes >> 20) + " MB: not a tag or rule list");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return fail("read error");
    const std::string text = ss.str();
    const auto body = tags::without_bom(text);
    return body.size() == text.size() ? text : std::string(body);
}

} // namespace skyscript::pipeline
