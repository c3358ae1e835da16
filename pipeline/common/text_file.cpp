#include "text_file.hpp"

#include <fstream>
#include <sstream>

namespace skyscript::pipeline {

std::optional<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
}

} // namespace skyscript::pipeline
