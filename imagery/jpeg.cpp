#include "imagery/jpeg.hpp"

#include "imagery/jpeg_row_writer.hpp"

#include <turbojpeg.h>

#include <cstring>
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

// One decompressor a thread, made on first use: a handle costs its set-up and buffers, which
// a handle an image made again for every tile.
std::unique_ptr<TjHandle>& thread_decompressor() {
    thread_local std::unique_ptr<TjHandle> tj;
    return tj;
}

tjhandle decompressor() {
    auto& tj = thread_decompressor();
    if (!tj) tj = std::make_unique<TjHandle>(tjInitDecompress());
    return tj->h;
}

// libjpeg-turbo's message for the failure of the thread's decompressor, which is then dropped:
// a header it refused (12-bit, lossless) left it half-way, and every later JPEG on the thread
// failed with "two SOI markers" (one bad tile of 1,048 failed a build's 72 jobs).
std::string failed_decompressor_error() {
    std::string what = tjGetErrorStr2(decompressor());
    thread_decompressor().reset();
    return what;
}

} // namespace

// The encoder the xyz source streams its bands through, given the whole image: one encoder,
// one set of settings, the same bytes either way.
std::string encode_jpeg(const RgbImage& image, int quality) {
    thread_local JpegRowWriter writer;
    writer.start(image.width, image.height, quality);
    writer.write(image.rgb.data(), image.height, static_cast<std::size_t>(image.width) * 3);
    return writer.finish();
}

namespace {

// Walks the JPEG's marker segments (skipping each by its length, so an EXIF thumbnail's
// end marker inside APP1 is not taken for the image's) and its entropy-coded scans, up to
// the end-of-image marker. nullopt when EOI is reached; bytes after it are ignored, as
// decoders do.
std::optional<std::string> walk_to_end_marker(std::string_view data) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(data[i]); };
    const std::size_t n = data.size();
    if (n < 2 || byte(0) != 0xFF || byte(1) != 0xD8) return std::string("not a JPEG image (no start marker)");
    const std::string truncated = "truncated JPEG (the body ends before the end-of-image marker, after " + std::to_string(n) + " bytes)";
    std::size_t i = 2;
    while (true) {
        if (i >= n) return truncated;
        if (byte(i) != 0xFF) return "broken JPEG (no marker at byte " + std::to_string(i) + ")";
        while (i < n && byte(i) == 0xFF) ++i; // fill bytes
        if (i >= n) return truncated;
        const unsigned char marker = byte(i++);
        if (marker == 0xD9) return std::nullopt;                             // EOI
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; // no length
        if (i + 2 > n) return truncated;
        const std::size_t length = (std::size_t(byte(i)) << 8) | byte(i + 1);
        if (length < 2) return "broken JPEG (segment length " + std::to_string(length) + " at byte " + std::to_string(i) + ")";
        if (i + length > n) return truncated;
        i += length;
        if (marker != 0xDA) continue;
        // Entropy-coded data after SOS: FF 00 is a stuffed byte, FF D0-D7 a restart marker;
        // any other FF xx is the next marker.
        while (true) {
            const void* ff = i < n ? std::memchr(data.data() + i, 0xFF, n - i) : nullptr;
            if (!ff) return truncated;
            i = static_cast<std::size_t>(static_cast<const char*>(ff) - data.data());
            if (i + 1 >= n) return truncated;
            const unsigned char next = byte(i + 1);
            if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
                i += next == 0xFF ? 1 : 2;
                continue;
            }
            break;
        }
    }
}

} // namespace

std::optional<std::pair<int, int>> jpeg_header_size(std::string_view data) {
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(decompressor(), reinterpret_cast<const unsigned char*>(data.data()), data.size(), &w, &h, &subsamp, &colorspace) != 0) {
        failed_decompressor_error();
        return std::nullopt;
    }
    return std::pair{w, h};
}

std::optional<std::string> check_jpeg(std::string_view data, int px) {
    if (auto broken = walk_to_end_marker(data)) return broken;
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(decompressor(), reinterpret_cast<const unsigned char*>(data.data()), data.size(), &w, &h, &subsamp, &colorspace) != 0)
        return "not a JPEG image (" + failed_decompressor_error() + ")"; // a 12-bit JPEG says so
    if (w != px || h != px) return "tile is " + std::to_string(w) + "x" + std::to_string(h) + " px, expected " + std::to_string(px);
    // Decoded to RGB only from gray, RGB and YCbCr: a CMYK tile failed later, in the worker, without its URL.
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) return std::string("JPEG in CMYK: only gray, RGB and YCbCr JPEG tiles are read");
    return std::nullopt;
}

namespace {

std::pair<int, int> jpeg_size(tjhandle tj, std::string_view data) {
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(tj, reinterpret_cast<const unsigned char*>(data.data()), data.size(), &w, &h, &subsamp, &colorspace) != 0)
        throw std::runtime_error("not a JPEG image: " + failed_decompressor_error());
    return {w, h};
}

void decompress(tjhandle tj, std::string_view data, std::uint8_t* rgb, int w, int pitch, int h) {
    // Truncated data is a warning in libjpeg-turbo; treat every warning as an error.
    if (tjDecompress2(tj, reinterpret_cast<const unsigned char*>(data.data()), data.size(), rgb, w, pitch, h, TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
        throw std::runtime_error("broken JPEG image: " + failed_decompressor_error());
}

} // namespace

RgbImage decode_jpeg(std::string_view data) {
    const auto tj = decompressor();
    const auto [w, h] = jpeg_size(tj, data);
    RgbImage img;
    img.width = w;
    img.height = h;
    img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
    decompress(tj, data, img.rgb.data(), w, 0, h);
    img.valid.assign(static_cast<std::size_t>(w) * h, 1);
    return img;
}

} // namespace skyscript::imagery
