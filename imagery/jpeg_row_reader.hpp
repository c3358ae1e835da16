#pragma once
// Decodes a JPEG a few rows at a time, through libjpeg's scanline interface (TurboJPEG 2.1
// decodes only whole images). The xyz mosaic holds just the rows a band of output samples:
// a whole tile row of a wide mosaic was 2-6 MB a worker, the band's rows are a few hundred KB
// (issue 25: memory flat as images grow). Rows come out as tjDecompress2 gives them (same
// library, same defaults), and every libjpeg warning is an error, as for decode_jpeg.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace skyscript::imagery {

class JpegRowReader {
public:
    JpegRowReader();
    ~JpegRowReader();
    JpegRowReader(const JpegRowReader&) = delete;
    JpegRowReader& operator=(const JpegRowReader&) = delete;

    // Starts reading `data` (held by the caller until finish() or the next start()), which must
    // be a JPEG of w x h px; throws std::runtime_error naming the problem otherwise.
    void start(std::string_view data, int w, int h);
    int next_row() const { return next_row_; } // the row the next read() gives
    // Reads the next `rows` rows as RGB into `rgb`, rows `pitch` bytes apart; a null `rgb`
    // passes over them. Throws on broken data, and leaves the reader finished.
    void read(int rows, std::uint8_t* rgb, std::size_t pitch);
    // Forgets the image; the decoder's own memory stays for the next.
    void finish();

private:
    struct Decoder;
    std::unique_ptr<Decoder> d_;
    int next_row_ = 0;
};

} // namespace skyscript::imagery
