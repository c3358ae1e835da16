#include "pipeline/state/foreign_folder.hpp"

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/sqlite_db.hpp"

#include <filesystem>
#include <stdexcept>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// Whether `path` is plainly not a build's state DB: not an SQLite file, or one without a jobs
// table (opened read-only: the file is not touched). Any other error (a lock held, a journal
// to apply) says nothing against it, and is the stage's to report.
bool not_a_state_db(const std::string& path) {
    try {
        SqliteDb db(path, SQLITE_OPEN_READONLY);
        auto q = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'jobs'");
        return !(q.step() && q.column_int(0) == 1);
    } catch (const SqliteError& e) {
        return e.primary_code() == SQLITE_NOTADB;
    }
}

} // namespace

void refuse_foreign_folder(const std::string& out_dir) {
    const BuildDir dir(out_dir);
    std::error_code ec;
    own_file(dir.state_db()); // not opened through a link, even read-only (its -wal and -shm would be made beside the target)
    if (fs::exists(dir.lock(), ec)) return;
    if (fs::exists(dir.state_db(), ec)) {
        if (!not_a_state_db(dir.state_db())) return;
        throw std::runtime_error(dir.state_db() + ": not a skyscript-build state DB (no jobs table), in a folder no build has locked (no build.lock): a "
                                 "build there would write into that database and replace the folder's files; give an empty or new -o");
    }
    const auto found = dir.build_outputs_present();
    if (found.empty()) return;
    std::string names;
    for (std::size_t i = 0; i < found.size() && i < 4; ++i) names += (i ? ", " : "") + found[i];
    if (found.size() > 4) names += ", ...";
    throw std::runtime_error(out_dir + " holds " + names + " but is no skyscript-build folder (no state.sqlite, no build.lock): a build there would "
                             "replace or remove those files; give an empty or new -o");
}

} // namespace skyscript::pipeline
