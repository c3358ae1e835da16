#include "pipeline/state/build_session.hpp"

#include "pipeline/common/build_dir.hpp"
#include <filesystem>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

std::string BuildSession::catalog_path() const { return BuildDir(out_dir).catalog(); }

} // namespace skyscript::pipeline
