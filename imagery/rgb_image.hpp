#pragma once
// An 8-bit RGB tile and its validity mask (pixels with data: inside the source,
// not nodata, not transparent).

#include <cstdint>
#include <vector>

namespace skyscript::imagery {

struct RgbImage {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;   // row-major, 3 bytes a pixel
    std::vector<std::uint8_t> valid; // 1 where the pixel has data

    double valid_fraction() const {
        if (valid.empty()) return 0;
        std::size_t n = 0;
        for (auto v : valid) n += v != 0;
        return double(n) / double(valid.size());
    }
};

} // namespace skyscript::imagery
