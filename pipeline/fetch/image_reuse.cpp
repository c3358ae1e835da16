#include "pipeline/fetch/image_reuse.hpp"

#include "imagery/jpeg.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/state/state_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// Whether the file at `path` (`bytes` long) is a JPEG of px x px that ends as a JPEG does: its
// head (to its frame header) and its last two bytes read, no decoding, so that a reuse stays a
// link's cost (another job's image under an edited stem has other sides; a cut one, no end).
bool jpeg_of(const std::string& path, std::uint64_t bytes, int px) {
    if (bytes < 4) return false;
    std::ifstream in(path, std::ios::binary);
    std::string head(static_cast<std::size_t>(std::min<std::uint64_t>(bytes, 64 * 1024)), '\0'), tail(2, '\0');
    if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) return false;
    if (!in.seekg(static_cast<std::streamoff>(bytes - 2)) || !in.read(tail.data(), 2)) return false;
    return head.starts_with("\xFF\xD8") && tail == "\xFF\xD9" && imagery::jpeg_header_size(head) == std::pair{px, px};
}

} // namespace

ImageReuse::ImageReuse(const std::vector<std::string>& old_builds, double min_valid) {
    for (const auto& dir : old_builds) {
        const auto db_path = BuildDir(dir).state_db();
        if (!fs::exists(db_path)) throw std::runtime_error(dir + ": --reuse needs an earlier build's folder (no state.sqlite there)");
        std::map<int, bool> own_part; // imagesK/ a folder of the old build's own, not a link to files it never wrote
        StateReader(dir).for_each_finished_image([&](const StateReader::FinishedImage& finished) {
            if (finished.valid_fraction < min_valid) return;
            // A stem its state DB was edited to (`../../x`) would take a file outside OLD_OUT: not offered.
            if (!is_stem(finished.stem)) return;
            const auto [part, fresh] = own_part.try_emplace(finished.part);
            if (fresh) part->second = BuildDir(dir).not_own_dir(images_dir(finished.part)).empty();
            if (!part->second) return;
            Image image;
            image.path = BuildDir(dir).image(finished.part, finished.stem);
            image.time_ms = finished.time_ms;
            image.year = finished.year;
            image.valid_fraction = finished.valid_fraction;
            image.provenance = finished.provenance;
            image.bytes = finished.image_bytes;
            tile_keys_ += images_.count(finished.tile_key) == 0;
            images_.emplace(finished.tile_key, std::move(image));
        });
    }
}

std::optional<ImageReuse::Taken> ImageReuse::take(const std::string& tile_key, int px, const std::function<std::string(const Image&)>& path_for,
                                                   const std::function<bool(const Image&)>& fits) {
    const auto [first, last] = images_.equal_range(tile_key);
    if (first == last) return std::nullopt;
    for (auto it = first; it != last; ++it) {
        if (fits && !fits(it->second)) continue;
        used_.insert(tile_key);
        if (const auto bytes = place(it->second, px, path_for(it->second))) return Taken{&it->second, *bytes};
    }
    return std::nullopt;
}

std::optional<std::int64_t> ImageReuse::place(const Image& image, int px, const std::string& path) {
    const auto size = placed_size(image.path, image.bytes);
    if (!size || !jpeg_of(image.path, *size, px)) {
        ++refused_; // passed over: the next build's copy, or a fetch
        return std::nullopt;
    }
    try {
        place_file(image.path, path); // hard link, else a copy; atomic either way
        return static_cast<std::int64_t>(*size);
    } catch (const std::runtime_error&) {
        ++refused_; // the old image went, or cannot be read
        return std::nullopt;
    }
}

} // namespace skyscript::pipeline
