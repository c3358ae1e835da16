#pragma once
// The registry of output formats (sample_writer.hpp), one line each in sample_formats.cpp.
// `--format NAME` picks a registered format (and its companion: coco writes files too), or
// `both`: files and webdataset, or `all`: the three.

#include "pipeline/dataset/sample_writer.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

std::span<const SampleFormat* const> sample_formats();
// The formats `--format VALUE` writes, in registration order; empty for an unknown value.
std::vector<const SampleFormat*> formats_named(std::string_view value);
// Every value --format takes: the formats' names, then the groups' ("both").
std::vector<std::string> format_values();
// "files, webdataset or both": what --format takes, for its usage message.
std::string format_choices();

} // namespace skyscript::pipeline
