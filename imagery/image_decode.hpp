#pragma once
// Decoding a fetched image body: JPEG through libjpeg-turbo, anything else GDAL reads
// (PNG, WebP, ...) through an in-memory file. Palettes are expanded to RGB; an alpha band,
// nodata or a transparent palette entry makes the pixel invalid (black).

#include "imagery/rgb_image.hpp"

#include <string>

namespace skyscript::imagery {

// The image in `body`, which must be `width` x `height` pixels. Throws std::runtime_error when
// it is not a complete image of that size. The body is a server's: only image formats are read
// (PNG, JPEG, WebP, GIF, TIFF, BMP), never a format that names other files or URLs (a VRT sent
// as image/png would have GDAL read local files or call other hosts), and the size is checked
// from the header before any pixel is allocated (a PNG declaring 60000 x 60000 took 14 GB).
RgbImage decode_image(const std::string& body, int width, int height);

} // namespace skyscript::imagery
