#pragma once
// SHA-256 of a text as lowercase hex (OpenSSL): the HTTP cache's keys, the digests of the
// sources identity (pipeline/common/source_identity.cpp), the polish stage's request keys;
// and of a file, read in pieces (croissant.json's checksums).

#include <string>
#include <string_view>

namespace skyscript::imagery {

// The first `bytes` bytes of the digest (at most 32), as 2 * bytes hex digits.
std::string sha256_hex(std::string_view text, unsigned bytes = 32);
// The whole digest of a file's bytes, read 1 MB at a time; "" when it cannot be read.
std::string sha256_file_hex(const std::string& path);

} // namespace skyscript::imagery
