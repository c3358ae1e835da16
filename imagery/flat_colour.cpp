#include "imagery/flat_colour.hpp"

#include <algorithm>

namespace skyscript::imagery {

void FlatColourCheck::add(const std::uint8_t* rgb, const std::uint8_t* valid, std::size_t pixels) noexcept {
    for (std::size_t i = 0; i < pixels; ++i) {
        if (!valid[i]) continue;
        any_ = true;
        for (int c = 0; c < 3; ++c) {
            const auto v = rgb[3 * i + c];
            lo_[c] = std::min(lo_[c], v);
            hi_[c] = std::max(hi_[c], v);
        }
    }
}

bool FlatColourCheck::flat() const noexcept {
    if (!any_) return false;
    for (int c = 0; c < 3; ++c)
        if (hi_[c] - lo_[c] > tolerance) return false;
    return true;
}

bool is_flat_colour(const RgbImage& image) noexcept {
    const std::size_t pixels = std::min(image.valid.size(), image.rgb.size() / 3);
    FlatColourCheck check;
    check.add(image.rgb.data(), image.valid.data(), pixels);
    return check.flat();
}

} // namespace skyscript::imagery
