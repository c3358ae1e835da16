#pragma once
// --reuse OLD_OUT (repeatable): the finished images of earlier builds, by tile key
// (tile_key.hpp). Before the fetch stage asks a source for a tile it looks here; a hit is
// hard-linked into this build (copied when OLD_OUT is on another file system) under this
// build's file name, with the old job's acquisition time. Meta, captions and CSVs are
// always written fresh: only pixels are reused.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace skyscript::pipeline {

class ImageReuse {
public:
    // `old_builds`: output folders of earlier builds (their state.sqlite and images). An image
    // with less than `min_valid` of its pixels from imagery (an old build's lower --min-valid)
    // is not offered: a fetch of its tile would be refused, and the job go to its next source.
    ImageReuse(const std::vector<std::string>& old_builds, double min_valid);

    struct Image {
        std::string path;   // the old JPEG
        long long time_ms = 0;
        int year = 0;
        double valid_fraction = 0;
        std::string provenance; // where its pixels came from (FetchedTile::provenance)
        long long bytes = -1;   // its size when the old build placed it; -1: not recorded
    };
    // The first old image of `tile_key` (in the order the builds were named) that can be
    // placed at path_for(image): hard-linked, else copied, atomically. One gone, or not the
    // size its build recorded (cut short, replaced since), is passed over for the next, and
    // counted in refused(). nullopt: none (the tile is fetched).
    struct Taken {
        const Image* image;
        std::int64_t bytes; // its size, as placed
    };
    // `fits`: whether an old image may serve this job beyond its tile key (its year, where the
    // source's year is configured and not in the key); none that fits is none at all.
    // `px`: the job's tile side; an old image whose JPEG header is not px x px or that does not
    // end as a JPEG does (another job's image under an edited stem, a file replaced since an
    // older version placed it without its size) is passed over too.
    std::optional<Taken> take(const std::string& tile_key, int px, const std::function<std::string(const Image&)>& path_for,
                              const std::function<bool(const Image&)>& fits = {});

    std::size_t available() const noexcept { return tile_keys_; } // distinct tiles
    std::size_t used() const noexcept { return used_.size(); }
    // Old images found for a tile but not placed: gone, or not the size their build recorded.
    std::size_t refused() const noexcept { return refused_; }

private:
    std::optional<std::int64_t> place(const Image& image, int px, const std::string& path);

    std::multimap<std::string, Image> images_; // equal keys in the order added: the first build named first
    std::size_t tile_keys_ = 0;
    std::set<std::string> used_;
    std::size_t refused_ = 0;
};

} // namespace skyscript::pipeline
