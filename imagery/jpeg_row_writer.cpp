#include "imagery/jpeg_row_writer.hpp"

#include "imagery/libjpeg_error_jump.hpp"

#include <algorithm>
#include <stdexcept>

#include <jerror.h> // ERREXIT1, JERR_OUT_OF_MEMORY

namespace skyscript::imagery {

namespace {

// The JPEG goes straight into a std::string, grown by doubling: no buffer of the image's worst
// case (tjBufSize: 3 bytes a pixel) and no copy at the end.
struct StringDestination {
    jpeg_destination_mgr mgr;
    std::string out;
};

StringDestination& destination(j_compress_ptr c) { return *reinterpret_cast<StringDestination*>(c->dest); }

void init_destination(j_compress_ptr c) {
    auto& d = destination(c);
    d.out.resize(std::max<std::size_t>(d.out.capacity(), 16384));
    d.mgr.next_output_byte = reinterpret_cast<JOCTET*>(d.out.data());
    d.mgr.free_in_buffer = d.out.size();
}

boolean empty_output_buffer(j_compress_ptr c) { // called when the buffer is full, whatever free_in_buffer says
    auto& d = destination(c);
    const std::size_t used = d.out.size();
    bool failed = false;
    try {
        d.out.resize(used * 2);
    } catch (const std::bad_alloc&) {
        failed = true;
    }
    if (failed) ERREXIT1(c, JERR_OUT_OF_MEMORY, 0); // outside the handler: it jumps
    d.mgr.next_output_byte = reinterpret_cast<JOCTET*>(d.out.data() + used);
    d.mgr.free_in_buffer = d.out.size() - used;
    return TRUE;
}

void term_destination(j_compress_ptr c) {
    auto& d = destination(c);
    d.out.resize(d.out.size() - d.mgr.free_in_buffer);
}

} // namespace

struct JpegRowWriter::Encoder {
    jpeg_compress_struct info{};
    LibjpegErrorJump err{};
    StringDestination dest{};
    bool active = false;

    [[noreturn]] void fail(const char* what) {
        const std::string why = std::string(what) + err.message;
        if (active) jpeg_abort_compress(&info);
        active = false;
        throw std::runtime_error(why);
    }
};

JpegRowWriter::JpegRowWriter() : e_(std::make_unique<Encoder>()) {
    e_->info.err = e_->err.install();
    if (!e_->err.guarded([&] { jpeg_create_compress(&e_->info); })) throw std::runtime_error(std::string("JPEG encoder: ") + e_->err.message);
    e_->dest.mgr.init_destination = init_destination;
    e_->dest.mgr.empty_output_buffer = empty_output_buffer;
    e_->dest.mgr.term_destination = term_destination;
    e_->info.dest = &e_->dest.mgr;
}

JpegRowWriter::~JpegRowWriter() { jpeg_destroy_compress(&e_->info); }

void JpegRowWriter::abort() {
    if (e_->active) jpeg_abort_compress(&e_->info);
    e_->active = false;
}

void JpegRowWriter::start(int width, int height, int quality) {
    if (quality < 1 || quality > 100) throw std::invalid_argument("JPEG quality must be 1..100");
    if (width <= 0 || height <= 0) throw std::invalid_argument("JPEG of " + std::to_string(width) + "x" + std::to_string(height) + " px");
    abort();
    auto& info = e_->info;
    e_->active = true;
    // TurboJPEG 2.1's tjCompress2 (setCompDefaults) for TJPF_RGB, TJSAMP_420, TJFLAG_ACCURATEDCT.
    if (!e_->err.guarded([&] {
            info.image_width = static_cast<JDIMENSION>(width);
            info.image_height = static_cast<JDIMENSION>(height);
            info.in_color_space = JCS_EXT_RGB;
            info.input_components = 3;
            jpeg_set_defaults(&info);
            jpeg_set_quality(&info, quality, TRUE);
            info.dct_method = JDCT_ISLOW;
            jpeg_set_colorspace(&info, JCS_YCbCr);
            info.comp_info[0].h_samp_factor = 2, info.comp_info[0].v_samp_factor = 2;
            info.comp_info[1].h_samp_factor = 1, info.comp_info[1].v_samp_factor = 1;
            info.comp_info[2].h_samp_factor = 1, info.comp_info[2].v_samp_factor = 1;
            jpeg_start_compress(&info, TRUE);
        }))
        e_->fail("JPEG encoding failed: ");
}

void JpegRowWriter::write(const std::uint8_t* rgb, int rows, std::size_t pitch) {
    if (!e_->active) throw std::runtime_error("JPEG encoding failed: no image started");
    JSAMPROW pointers[16];
    while (rows > 0) {
        const int n = std::min(rows, 16);
        for (int i = 0; i < n; ++i) pointers[i] = const_cast<JSAMPROW>(rgb + static_cast<std::size_t>(i) * pitch); // libjpeg only reads them
        JDIMENSION done = 0;
        if (!e_->err.guarded([&] { done = jpeg_write_scanlines(&e_->info, pointers, static_cast<JDIMENSION>(n)); }))
            e_->fail("JPEG encoding failed: ");
        if (done == 0) { // past the last row
            abort();
            throw std::runtime_error("JPEG encoding failed: more rows than the image has");
        }
        rows -= static_cast<int>(done), rgb += static_cast<std::size_t>(done) * pitch;
    }
}

std::string JpegRowWriter::finish() {
    if (!e_->active) throw std::runtime_error("JPEG encoding failed: no image started");
    if (e_->info.next_scanline < e_->info.image_height) {
        const auto missing = e_->info.image_height - e_->info.next_scanline;
        abort();
        throw std::runtime_error("JPEG encoding failed: " + std::to_string(missing) + " rows not written");
    }
    if (!e_->err.guarded([&] { jpeg_finish_compress(&e_->info); })) e_->fail("JPEG encoding failed: ");
    e_->active = false;
    std::string out = std::move(e_->dest.out);
    e_->dest.out = std::string();
    return out;
}

} // namespace skyscript::imagery
