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
    if (!std::filesystem::is_regular_file(status)) return "is a pipe or a device, not a file (a later run reads it again): save it to a file";
    return "";
}

std::optional<std::string> read_text_file(const std::string& path, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<std::string> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    if (auto problem = file_problem(path); !problem.empty()) return fail(std::move(problem));
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
