#pragma once
// Whether an image's pixels with data are all one colour. No scene is (open water comes
// closest, and its waves and noise still spread a few levels); what makes one is a source
// set up wrong: a stretch that misses the raster's values (every pixel clipped to black or
// white), a band without data, a server's blank tile where it has no imagery. The fetch
// counts them and says so when they are most of a source's images, instead of ending with a
// dataset of black squares and exit 0.

#include "imagery/rgb_image.hpp"

#include <cstddef>
#include <cstdint>

namespace skyscript::imagery {

class FlatColourCheck {
public:
    // Pixels with data may spread this many levels a channel (JPEG and resampling noise).
    static constexpr int tolerance = 2;

    // `pixels` pixels: 3 bytes each in rgb, one in valid (1 where the pixel has data).
    void add(const std::uint8_t* rgb, const std::uint8_t* valid, std::size_t pixels) noexcept;
    // One colour, within the tolerance; false when no pixel had data.
    bool flat() const noexcept;

private:
    std::uint8_t lo_[3] = {255, 255, 255}, hi_[3] = {0, 0, 0};
    bool any_ = false;
};

bool is_flat_colour(const RgbImage& image) noexcept;

} // namespace skyscript::imagery
