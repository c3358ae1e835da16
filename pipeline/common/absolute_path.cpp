#include "pipeline/common/absolute_path.hpp"

#include <algorithm>
#include <filesystem>

namespace skyscript::pipeline {

std::string absolute_path(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto absolute = fs::absolute(path, ec);
    if (ec) return path;
    if (std::any_of(absolute.begin(), absolute.end(), [](const fs::path& part) { return part == ".."; }))
        if (auto resolved = fs::weakly_canonical(absolute, ec); !ec) return resolved.string();
    return absolute.lexically_normal().string();
}

} // namespace skyscript::pipeline
