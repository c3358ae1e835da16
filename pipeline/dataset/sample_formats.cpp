#include "pipeline/dataset/sample_formats.hpp"


#include <algorithm>

namespace skyscript::pipeline {

// One line per format (its file defines it).
extern const SampleFormat csv_files_format;  // csv_sample_writer.cpp
extern const SampleFormat webdataset_format; // webdataset_sample_writer.cpp
extern const SampleFormat coco_format;       // coco_sample_writer.cpp
extern const SampleFormat hf_format;         // hf_sample_writer.cpp

namespace {

const SampleFormat* const registered[] = {
    &csv_files_format,
    &webdataset_format,
    &coco_format,
    &hf_format,
};

// --format values that name several formats.
struct FormatGroup {
    std::string_view name;
    std::vector<std::string_view> formats;
};
const FormatGroup groups[] = {
    {"both", {"files", "webdataset"}},
    {"all", {"files", "webdataset", "coco", "hf"}},
};

} // namespace

std::span<const SampleFormat* const> sample_formats() { return registered; }

std::vector<const SampleFormat*> formats_named(std::string_view value) {
    std::vector<std::string_view> names{value};
    for (const auto& g : groups)
        if (g.name == value) names = g.formats;
    for (const auto* f : registered)
        if (std::find(names.begin(), names.end(), f->name) != names.end() && !f->companion.empty()) names.push_back(f->companion);
    std::vector<const SampleFormat*> out;
    for (const auto* f : registered)
        if (std::find(names.begin(), names.end(), f->name) != names.end()) out.push_back(f);
    return out;
}

std::vector<std::string> format_values() {
    std::vector<std::string> names;
    for (const auto* f : registered) names.emplace_back(f->name);
    for (const auto& g : groups) names.emplace_back(g.name);
    return names;
}

std::string format_choices() {
    const auto names = format_values();
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

} // namespace skyscript::pipeline
