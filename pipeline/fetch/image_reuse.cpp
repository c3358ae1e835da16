#include "pipeline/fetch/image_reuse.hpp"

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/state/state_reader.hpp"

#include <filesystem>
#include <stdexcept>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

ImageReuse::ImageReuse(const std::vector<std::string>& old_builds) {
    for (const auto& dir : old_builds) {
        const auto db_path = BuildDir(dir).state_db();
        if (!fs::exists(db_path)) throw std::runtime_error(dir + ": --reuse needs an earlier build's folder (no state.sqlite there)");
        StateReader(dir).for_each_finished_image([&](const StateReader::FinishedImage& finished) {
            Image image;
            image.path = BuildDir(dir).image(finished.part, finished.stem);
            image.time_ms = finished.time_ms;
            image.year = finished.year;
            image.valid_fraction = finished.valid_fraction;
            image.provenance = finished.provenance;
            image.bytes = finished.image_bytes;
            images_.emplace(finished.tile_key, std::move(image)); // the first build named wins
        });
    }
}

const ImageReuse::Image* ImageReuse::find(const std::string& tile_key) {
    const auto it = images_.find(tile_key);
    if (it == images_.end()) return nullptr;
    used_.insert(tile_key);
    return &it->second;
}

std::optional<std::int64_t> ImageReuse::place(const Image& image, const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(image.path, ec);
    if (ec || size == 0 || (image.bytes >= 0 && size != static_cast<std::uintmax_t>(image.bytes))) {
        ++refused_; // the job is fetched instead
        return std::nullopt;
    }
    try {
        place_file(image.path, path); // hard link, else a copy; atomic either way
        return static_cast<std::int64_t>(size);
    } catch (const std::runtime_error&) {
        ++refused_; // the old image went, or cannot be read
        return std::nullopt;
    }
}

} // namespace skyscript::pipeline
