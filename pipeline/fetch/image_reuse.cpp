#include "pipeline/fetch/image_reuse.hpp"

#include "pipeline/common/dataset_layout.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/common/sqlite_db.hpp"

#include <filesystem>
#include <stdexcept>


namespace skyscript::pipeline {

namespace fs = std::filesystem;

ImageReuse::ImageReuse(const std::vector<std::string>& old_builds) {
    for (const auto& dir : old_builds) {
        const auto db_path = (fs::path(dir) / "state.sqlite").string();
        if (!fs::exists(db_path)) throw std::runtime_error(dir + ": --reuse needs an earlier build's folder (no state.sqlite there)");
        SqliteDb db(db_path, SQLITE_OPEN_READONLY);
        auto q = db.prepare("SELECT tile_key, part, stem, coalesce(time_ms, 0), coalesce(year, 0), coalesce(valid_fraction, 0) FROM jobs "
                            "WHERE status IN ('fetched', 'written')");
        while (q.step()) {
            Image image;
            image.path = (fs::path(dir) / image_relative_path(static_cast<int>(q.column_int(1)), q.column_text(2))).string();
            image.time_ms = q.column_int(3);
            image.year = static_cast<int>(q.column_int(4));
            image.valid_fraction = q.column_double(5);
            images_.emplace(q.column_text(0), std::move(image)); // the first build named wins
        }
    }
}

const ImageReuse::Image* ImageReuse::find(const std::string& tile_key) {
    const auto it = images_.find(tile_key);
    if (it == images_.end()) return nullptr;
    used_.insert(tile_key);
    return &it->second;
}

bool ImageReuse::place(const Image& image, const std::string& path) {
    try {
        place_file(image.path, path); // hard link, else a copy; atomic either way
        return true;
    } catch (const std::runtime_error&) {
        return false; // the old image is gone or unreadable: the job is fetched instead
    }
}

} // namespace skyscript::pipeline
