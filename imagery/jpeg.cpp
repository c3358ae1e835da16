#include "jpeg.hpp"

#include <turbojpeg.h>

#include <memory>
#include <stdexcept>

namespace skyscript::imagery {

namespace {

struct TjHandle {
    tjhandle h;
    explicit TjHandle(tjhandle handle) : h(handle) {
        if (!h) throw std::runtime_error("libjpeg-turbo: cannot create a handle");
    }
    ~TjHandle() { tjDestroy(h); }
};

} // namespace

std::string encode_jpeg(const RgbImage& image, int quality) {
    if (quality < 1 || quality > 100) throw std::invalid_argument("JPEG quality must be 1..100");
    TjHandle tj(tjInitCompress());
    unsigned char* out = nullptr;
    unsigned long size = 0;
    if (tjCompress2(tj.h, image.rgb.data(), image.width, 0, image.height, TJPF_RGB, &out, &size, TJSAMP_420, quality,
                    TJFLAG_ACCURATEDCT) != 0) {
        const std::string msg = tjGetErrorStr2(tj.h);
        tjFree(out);
        throw std::runtime_error("JPEG encoding failed: " + msg);
    }
    std::string result(reinterpret_cast<const char*>(out), size);
    tjFree(out);
    return result;
}

std::optional<std::string> check_jpeg(std::string_view data, int px) {
    const auto n = data.size();
    if (n < 4 || static_cast<unsigned char>(data[n - 2]) != 0xFF || static_cast<unsigned char>(data[n - 1]) != 0xD9)
        return std::string("truncated JPEG (no end marker)");
    TjHandle tj(tjInitDecompress());
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(tj.h, reinterpret_cast<const unsigned char*>(data.data()), n, &w, &h, &subsamp, &colorspace) != 0)
        return std::string("not a JPEG image");
    if (w != px || h != px) return "tile is " + std::to_string(w) + "x" + std::to_string(h) + " px, expected " + std::to_string(px);
    return std::nullopt;
}

RgbImage decode_jpeg(std::string_view data) {
    TjHandle tj(tjInitDecompress());
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    auto* src = reinterpret_cast<const unsigned char*>(data.data());
    if (tjDecompressHeader3(tj.h, src, data.size(), &w, &h, &subsamp, &colorspace) != 0)
        throw std::runtime_error(std::string("not a JPEG image: ") + tjGetErrorStr2(tj.h));
    RgbImage img;
    img.width = w;
    img.height = h;
    img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
    // Truncated data is a warning in libjpeg-turbo; treat every warning as an error.
    if (tjDecompress2(tj.h, src, data.size(), img.rgb.data(), w, 0, h, TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
        throw std::runtime_error(std::string("broken JPEG image: ") + tjGetErrorStr2(tj.h));
    img.valid.assign(static_cast<std::size_t>(w) * h, 1);
    return img;
}

} // namespace skyscript::imagery
