#pragma once
// Where a job's files go (docs/dataset-format.md): OUT/imagesK/STEM.jpg and OUT/metaK/STEM.pickle,
// K = the job's part, STEM = {n|w|a}{osm_id}_{SRC}_{yy}. The CSV's `filepath` is the
// image's path relative to OUT.

#include <string>

namespace skyscript::pipeline {

std::string make_stem(const std::string& id_part, const std::string& source, int year);
std::string image_relative_path(int part, const std::string& stem);
std::string meta_relative_path(int part, const std::string& stem);
std::string images_dir(int part);
std::string meta_dir(int part);

} // namespace skyscript::pipeline
