#pragma once
// Encodes a JPEG a band of rows at a time, through libjpeg's scanline interface, with the
// settings encode_jpeg has always given TurboJPEG (4:2:0, accurate DCT, the quality's tables):
// the same bytes tjCompress2 wrote for the whole image. The xyz source encodes each band as it
// resamples it, so no image is held whole (issue 25: memory flat as images grow).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace skyscript::imagery {

class JpegRowWriter {
public:
    JpegRowWriter();
    ~JpegRowWriter();
    JpegRowWriter(const JpegRowWriter&) = delete;
    JpegRowWriter& operator=(const JpegRowWriter&) = delete;

    // Starts an image of width x height px at `quality` (1..100; std::invalid_argument otherwise).
    void start(int width, int height, int quality);
    // The next `rows` rows, RGB, `pitch` bytes apart.
    void write(const std::uint8_t* rgb, int rows, std::size_t pitch);
    // The JPEG, once every row is written; throws std::runtime_error otherwise.
    std::string finish();
    // Drops the image started, if any (the encoder's memory stays for the next).
    void abort();

private:
    struct Encoder;
    std::unique_ptr<Encoder> e_;
};

} // namespace skyscript::imagery
