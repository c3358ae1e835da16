#include "imagery/jpeg_row_reader.hpp"

#include "imagery/libjpeg_error_jump.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace skyscript::imagery {

struct JpegRowReader::Decoder {
    jpeg_decompress_struct info{};
    LibjpegErrorJump err{};
    bool active = false;
    std::vector<std::uint8_t> skipped; // one row: where rows passed over are decoded
};

JpegRowReader::JpegRowReader() : d_(std::make_unique<Decoder>()) {
    d_->info.err = d_->err.install();
    if (!d_->err.guarded([&] { jpeg_create_decompress(&d_->info); }))
        throw std::runtime_error(std::string("JPEG decoder: ") + d_->err.message);
}

JpegRowReader::~JpegRowReader() { jpeg_destroy_decompress(&d_->info); }

void JpegRowReader::finish() {
    if (d_->active) jpeg_abort_decompress(&d_->info);
    d_->active = false;
    next_row_ = 0;
}

void JpegRowReader::start(std::string_view data, int w, int h) {
    finish();
    auto& info = d_->info;
    d_->active = true;
    int jw = 0, jh = 0;
    if (!d_->err.guarded([&] {
            jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(data.data()), static_cast<unsigned long>(data.size()));
            jpeg_read_header(&info, TRUE);
            jw = static_cast<int>(info.image_width), jh = static_cast<int>(info.image_height);
        })) {
        finish();
        throw std::runtime_error(std::string("not a JPEG image: ") + d_->err.message);
    }
    if (jw != w || jh != h) {
        finish();
        throw std::runtime_error("JPEG is " + std::to_string(jw) + "x" + std::to_string(jh) + " px, expected " + std::to_string(w) + "x" +
                                 std::to_string(h));
    }
    info.out_color_space = JCS_EXT_RGB; // as tjDecompress2 sets for TJPF_RGB
    if (!d_->err.guarded([&] { jpeg_start_decompress(&info); })) {
        finish();
        throw std::runtime_error(std::string("broken JPEG image: ") + d_->err.message);
    }
    d_->skipped.resize(static_cast<std::size_t>(w) * 3);
}

void JpegRowReader::read(int rows, std::uint8_t* rgb, std::size_t pitch) {
    auto& info = d_->info;
    JSAMPROW pointers[16];
    while (rows > 0) {
        const int n = std::min(rows, 16);
        for (int i = 0; i < n; ++i) pointers[i] = rgb ? rgb + static_cast<std::size_t>(i) * pitch : d_->skipped.data();
        JDIMENSION got = 0;
        if (!d_->active || !d_->err.guarded([&] { got = jpeg_read_scanlines(&info, pointers, static_cast<JDIMENSION>(n)); })) {
            const std::string why = d_->active ? d_->err.message : "no image started";
            finish();
            throw std::runtime_error("broken JPEG image: " + why);
        }
        if (got == 0) { // past the last row (a memory source never suspends)
            finish();
            throw std::runtime_error("broken JPEG image: no row " + std::to_string(next_row_));
        }
        rows -= static_cast<int>(got), next_row_ += static_cast<int>(got);
        if (rgb) rgb += static_cast<std::size_t>(got) * pitch;
    }
}

} // namespace skyscript::imagery
