#pragma once
// OUT/state.sqlite opened read-only, for `report` and `status`: they may run while a build
// writes (the DB is in WAL mode, so readers see the last committed batch and never block
// or disturb the writer), and they must never change a build's record.

#include "pipeline/common/sqlite_db.hpp"

#include <memory>
#include <string>

namespace skyscript::pipeline {

// Throws std::runtime_error naming OUT when it has no state DB or one without jobs table.
std::unique_ptr<SqliteDb> open_state_read_only(const std::string& out_dir);

} // namespace skyscript::pipeline
