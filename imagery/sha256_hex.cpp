#include "imagery/sha256_hex.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

namespace skyscript::imagery {

namespace {

std::string hex_of(const unsigned char* md, unsigned len, unsigned bytes) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < bytes && i < len; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
    return out;
}

} // namespace

std::string sha256_hex(std::string_view text, unsigned bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
    return hex_of(md, len, bytes);
}

std::string sha256_file_hex(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return hex_of(md, len, 32);
}

} // namespace skyscript::imagery
