#include "pipeline/common/build_dir.hpp"


#include <cstdio>
#include <filesystem>

namespace skyscript::pipeline {

std::string BuildDir::path(std::string_view relative) const { return (std::filesystem::path(root_) / relative).string(); }
std::string BuildDir::image(int part, const std::string& stem) const { return path(image_relative_path(part, stem)); }
std::string BuildDir::meta(int part, const std::string& stem) const { return path(meta_relative_path(part, stem)); }

std::string make_stem(const std::string& id_part, const std::string& source, int year) {
    char yy[8];
    std::snprintf(yy, sizeof yy, "%02d", ((year % 100) + 100) % 100);
    return id_part + "_" + source + "_" + yy;
}

std::string images_dir(int part) { return "images" + std::to_string(part); }
std::string meta_dir(int part) { return "meta" + std::to_string(part); }
std::string image_relative_path(int part, const std::string& stem) { return images_dir(part) + "/" + stem + ".jpg"; }
std::string meta_relative_path(int part, const std::string& stem) { return meta_dir(part) + "/" + stem + ".pickle"; }

} // namespace skyscript::pipeline
