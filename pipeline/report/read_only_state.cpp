#include "pipeline/report/read_only_state.hpp"

#include <filesystem>

namespace skyscript::pipeline {

std::unique_ptr<SqliteDb> open_state_read_only(const std::string& out_dir) {
    const auto path = (std::filesystem::path(out_dir) / "state.sqlite").string();
    if (!std::filesystem::is_regular_file(path))
        throw std::runtime_error(out_dir + ": no build here (no state.sqlite); start one with `skyscript-build INPUT.osm.pbf -o " + out_dir + "`");
    auto db = std::make_unique<SqliteDb>(path, SQLITE_OPEN_READONLY);
    sqlite3_busy_timeout(db->handle(), 10000);
    auto q = db->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('jobs', 'stages', 'options', 'skipped')");
    if (!q.step() || q.column_int(0) != 4) throw std::runtime_error(path + ": not a skyscript-build state DB (no jobs table)");
    return db;
}

} // namespace skyscript::pipeline
