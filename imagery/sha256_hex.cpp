#include "imagery/sha256_hex.hpp"

#include <openssl/evp.h>

namespace skyscript::imagery {

std::string sha256_hex(std::string_view text, unsigned bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < bytes && i < len; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
    return out;
}

} // namespace skyscript::imagery
