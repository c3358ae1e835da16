#pragma once
// JPEG through libjpeg-turbo: encoding tiles, and checking fetched bodies.

#include "rgb_image.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace skyscript::imagery {

std::string encode_jpeg(const RgbImage& image, int quality);

// Decodes a JPEG (or any image libjpeg-turbo reads) to RGB; throws std::runtime_error
// with libjpeg-turbo's message on a truncated or non-JPEG body.
RgbImage decode_jpeg(std::string_view data);

// A cheap check of a JPEG body without decoding it: a readable header of `px` x `px`
// and the end-of-image marker last (catches truncation). nullopt when it looks whole.
std::optional<std::string> check_jpeg(std::string_view data, int px);

} // namespace skyscript::imagery
