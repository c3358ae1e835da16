#include "pipeline/common/absolute_path.hpp"

#include <algorithm>
#include <filesystem>

namespace skyscript::pipeline {

std::string absolute_path(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto absolute = fs::absolute(path, ec);
    if (ec) return path;
    const auto up = [](const fs::path& part) { return part == ".."; };
    if (std::any_of(absolute.begin(), absolute.end(), up)) {
        // A `..` after a name that is no folder here (`scores.csv,../x`) is no way back from it:
        // the kernel refuses such a path, and weakly_canonical would take both away, naming
        // another file (red-team round 41: --scores 'scores.csv,../../x' read as ./x). Kept as given.
        fs::path existing;
        auto it = absolute.begin();
        for (; it != absolute.end(); ++it) {
            if (!fs::is_directory(existing / *it, ec)) break;
            existing /= *it;
        }
        if (std::any_of(it, absolute.end(), up)) return absolute.string();
        if (auto resolved = fs::weakly_canonical(absolute, ec); !ec) return resolved.string();
    }
    return absolute.lexically_normal().string();
}

} // namespace skyscript::pipeline
