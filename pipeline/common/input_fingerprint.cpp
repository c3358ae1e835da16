#include "pipeline/common/input_fingerprint.hpp"

#include "imagery/sha256_hex.hpp"

#include <filesystem>
#include <fstream>

namespace skyscript::pipeline {

std::string input_fingerprint(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return "";
    const auto size = std::filesystem::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (ec || !in) return "";
    constexpr std::uintmax_t piece = 1 << 20;
    std::string text = std::to_string(size) + '\n', buf(static_cast<std::size_t>(std::min(size, piece)), '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    text += buf;
    if (size > piece) {
        buf.assign(static_cast<std::size_t>(std::min(size - piece, piece)), '\0'); // the last MiB, or what follows the first
        in.seekg(static_cast<std::streamoff>(size - buf.size()));
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        text += buf;
    }
    if (!in) return "";
    return imagery::sha256_hex(text, 8);
}

} // namespace skyscript::pipeline
