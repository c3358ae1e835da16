#pragma once
// JPEG through libjpeg-turbo: encoding tiles, and checking fetched bodies.

#include "imagery/rgb_image.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace skyscript::imagery {

std::string encode_jpeg(const RgbImage& image, int quality);

// Decodes a JPEG (or any image libjpeg-turbo reads) to RGB; throws std::runtime_error
// with libjpeg-turbo's message on a truncated or non-JPEG body.
RgbImage decode_jpeg(std::string_view data);

// The width and height a JPEG's header declares, read without decoding; nullopt when it has none.
std::optional<std::pair<int, int>> jpeg_header_size(std::string_view data);

// A cheap check of a JPEG body without decoding it: its marker segments and scans run
// whole up to the end-of-image marker (catches truncation, also just after an embedded
// thumbnail), and its header says `px` x `px`. nullopt when it is whole.
std::optional<std::string> check_jpeg(std::string_view data, int px);

} // namespace skyscript::imagery
