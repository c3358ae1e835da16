#pragma once
// Decoding a fetched image body: JPEG through libjpeg-turbo, anything else GDAL reads
// (PNG, WebP, ...) through an in-memory file. Palettes are expanded to RGB; an alpha band,
// nodata or a transparent palette entry makes the pixel invalid (black).

#include "imagery/rgb_image.hpp"

#include <string>

namespace skyscript::imagery {

// Throws std::runtime_error when the body is not a complete image.
RgbImage decode_image(const std::string& body);

} // namespace skyscript::imagery
