#include "pipeline/state/build_session.hpp"

#include <filesystem>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

std::string BuildSession::catalog_path() const { return (fs::path(out_dir) / "catalog.gpkg").string(); }

} // namespace skyscript::pipeline
