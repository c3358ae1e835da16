#pragma once
// SHA-256 of a text as lowercase hex (OpenSSL): the HTTP cache's keys, and the digests of the
// sources identity (pipeline/common/source_identity.cpp).

#include <string>
#include <string_view>

namespace skyscript::imagery {

// The first `bytes` bytes of the digest (at most 32), as 2 * bytes hex digits.
std::string sha256_hex(std::string_view text, unsigned bytes = 32);

} // namespace skyscript::imagery
