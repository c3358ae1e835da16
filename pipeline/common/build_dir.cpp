#include "pipeline/common/build_dir.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace skyscript::pipeline {

std::string BuildDir::path(std::string_view relative) const { return (std::filesystem::path(root_) / relative).string(); }
namespace {

// The start of the line refusing `path`, a symbolic link where the build keeps a `kind` (a
// folder, a file) of its own: where it points, even nowhere.
std::string link_refused(const std::filesystem::path& path, const char* kind) {
    std::error_code ec;
    return path.string() + ": a symbolic link (to " + std::filesystem::read_symlink(path, ec).string() + "), where the build keeps a " + kind +
           " of its own: ";
}

} // namespace

// OUT/relative walked a part at a time below OUT: "" when each part is a folder (made where
// missing when `make`), else the line refusing the first that is a link or no folder.
std::string BuildDir::walk_own_dir(std::string_view relative, bool make) const {
    namespace fs = std::filesystem;
    fs::path at(root_);
    for (const auto& part : fs::path(relative)) {
        at /= part;
        std::error_code ec;
        const auto status = fs::symlink_status(at, ec);
        if (fs::is_symlink(status))
            return link_refused(at, "folder") +
                   (make ? "it writes there and removes what no job names, so it does not follow the link; make it a folder" : "its files are not taken through it");
        if (fs::is_directory(status)) continue;
        if (fs::exists(status)) return at.string() + ": not a folder, where " + (make ? "the" : "a") + " build keeps a folder of its own";
        if (!make) break; // missing: nothing of another build's taken from it
        if (!fs::create_directory(at, ec) && !fs::is_directory(fs::symlink_status(at))) // made by another run meanwhile is fine
            return at.string() + ": cannot make the folder (" + ec.message() + ")";
    }
    return "";
}

std::string BuildDir::own_dir(std::string_view relative) const {
    if (const auto refused = walk_own_dir(relative, true); !refused.empty()) throw std::runtime_error(refused);
    return path(relative);
}

std::string BuildDir::not_own_dir(std::string_view relative) const { return walk_own_dir(relative, false); }

const std::string& own_file(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (fs::is_symlink(status)) throw std::runtime_error(link_refused(path, "file") + "it does not write or read through it; make it a file, or remove it");
    if (fs::exists(status) && !fs::is_regular_file(status))
        throw std::runtime_error(path + ": not a regular file (a folder, a pipe or a device), where the build keeps a file of its own; remove it");
    return path;
}

std::string BuildDir::image(int part, const std::string& stem) const { return path(image_relative_path(part, stem)); }
std::string BuildDir::meta(int part, const std::string& stem) const { return path(meta_relative_path(part, stem)); }

std::string make_stem(const std::string& id_part, const std::string& source, int year) {
    char yy[8];
    std::snprintf(yy, sizeof yy, "%02d", ((year % 100) + 100) % 100);
    return id_part + "_" + source + "_" + yy;
}

std::string images_dir(int part) { return "images" + std::to_string(part); }
std::string meta_dir(int part) { return "meta" + std::to_string(part); }
bool is_stem(std::string_view stem) {
    return !stem.empty() && stem.size() <= 200 &&
           std::all_of(stem.begin(), stem.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

namespace {

const std::string& checked_stem(const std::string& stem) {
    if (!is_stem(stem)) {
        std::string shown;
        for (const unsigned char c : stem.substr(0, 80)) shown += c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?';
        throw std::runtime_error("a job's recorded file name `" + shown + "` is not one the build makes (letters, digits, _, -): its state DB was edited; " +
                                 "it is not followed outside the build's folder");
    }
    return stem;
}

} // namespace

std::string image_relative_path(int part, const std::string& stem) { return images_dir(part) + "/" + checked_stem(stem) + ".jpg"; }
std::string meta_relative_path(int part, const std::string& stem) { return meta_dir(part) + "/" + checked_stem(stem) + ".pickle"; }

std::vector<std::string> BuildDir::build_outputs_present() const {
    namespace fs = std::filesystem;
    std::vector<std::string> found;
    std::error_code ec;
    const auto numbered = [](const std::string& name, std::string_view prefix) {
        return name.size() > prefix.size() && name.starts_with(prefix) && name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
    };
    for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (numbered(name, "images") || numbered(name, "meta") || name == "meta.jsonl" || (name.starts_with("SkyScript_") && name.ends_with(".csv")) ||
            name == "webdataset" || name == "hf" || name == "benchmarks" || (name.starts_with("annotations_") && name.ends_with(".json")) ||
            name == "README.md" || name == "croissant.json" || name == "report.json" || name == "report.html")
            found.push_back(name);
    }
    std::sort(found.begin(), found.end());
    return found;
}

bool BuildDir::split_outputs_present() const {
    for (const auto& name : build_outputs_present())
        if (name.starts_with("SkyScript_") || name == "webdataset" || name == "hf" || name.starts_with("annotations_")) return true;
    return false;
}

} // namespace skyscript::pipeline
