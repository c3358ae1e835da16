#include "imagery/image_decode.hpp"

#include "imagery/gdal_drivers.hpp"
#include "imagery/jpeg.hpp"

#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace skyscript::imagery {

namespace {

// GDAL's complaints about a body, kept to this thread and this call: the failure goes into the
// job's reason with them, and the process's handler (which adds GDAL's last failure to the
// final error line) never sees them (a tile's "libpng: Read Error" ended the line of a build
// that failed for another reason, long after).
struct QuietGdal {
    QuietGdal() { CPLPushErrorHandler(CPLQuietErrorHandler); }
    ~QuietGdal() {
        CPLPopErrorHandler();
        CPLErrorReset();
    }
    static std::string why() {
        const std::string last = CPLGetLastErrorMsg();
        return last.empty() ? std::string() : " (" + last + ")";
    }
};

} // namespace

RgbImage decode_image(const std::string& body, int width, int height) {
    const auto wrong_size = [&](int w, int h) {
        return std::runtime_error("image is " + std::to_string(w) + "x" + std::to_string(h) + " px, expected " + std::to_string(width) + "x" +
                                  std::to_string(height));
    };
    if (body.size() > 2 && static_cast<unsigned char>(body[0]) == 0xFF && static_cast<unsigned char>(body[1]) == 0xD8) {
        if (const auto header = jpeg_header_size(body); header && (header->first != width || header->second != height))
            throw wrong_size(header->first, header->second);
        auto img = decode_jpeg(body);
        if (img.width != width || img.height != height) throw wrong_size(img.width, img.height);
        return img;
    }
    const QuietGdal quiet;
    register_gdal_drivers();
    static std::atomic<int> counter{0};
    const std::string name = "/vsimem/skyscript-tile-" + std::to_string(counter++);
    VSILFILE* f = VSIFileFromMemBuffer(name.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(body.data())), body.size(), FALSE);
    if (!f) throw std::runtime_error("cannot read the tile body");
    VSIFCloseL(f);
    static const char* const image_drivers[] = {"PNG", "JPEG", "WEBP", "GIF", "GTiff", "BMP", nullptr};
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(name.c_str(), GDAL_OF_RASTER, image_drivers, nullptr, nullptr));
    if (!ds) {
        VSIUnlink(name.c_str());
        throw std::runtime_error("not an image (PNG, JPEG, WebP, GIF, TIFF or BMP) GDAL can read" + QuietGdal::why());
    }
    if (ds->GetRasterXSize() != width || ds->GetRasterYSize() != height) {
        const auto e = wrong_size(ds->GetRasterXSize(), ds->GetRasterYSize());
        ds.reset();
        VSIUnlink(name.c_str());
        throw e;
    }
    RgbImage img;
    img.width = ds->GetRasterXSize();
    img.height = ds->GetRasterYSize();
    const std::size_t pixels = static_cast<std::size_t>(img.width) * img.height;
    img.rgb.resize(pixels * 3);
    img.valid.assign(pixels, 1);
    GDALRasterBand* first = ds->GetRasterBand(1);
    bool ok = first != nullptr;
    if (ok && first->GetColorTable() && first->GetColorInterpretation() == GCI_PaletteIndex) {
        // Paletted (PNG type 3, GIF): the samples are indices into the colour table, whose
        // fourth component is the entry's alpha (tRNS); transparent entries are no data.
        const GDALColorTable* table = first->GetColorTable();
        std::uint8_t lut[256][4] = {};
        for (int i = 0; i < std::min(256, table->GetColorEntryCount()); ++i) {
            GDALColorEntry e;
            table->GetColorEntryAsRGB(i, &e);
            lut[i][0] = static_cast<std::uint8_t>(e.c1), lut[i][1] = static_cast<std::uint8_t>(e.c2);
            lut[i][2] = static_cast<std::uint8_t>(e.c3), lut[i][3] = static_cast<std::uint8_t>(e.c4);
        }
        int has_nodata = 0;
        const double nodata = first->GetNoDataValue(&has_nodata);
        std::vector<std::uint8_t> index(pixels);
        ok = first->RasterIO(GF_Read, 0, 0, img.width, img.height, index.data(), img.width, img.height, GDT_Byte, 0, 0) == CE_None;
        for (std::size_t i = 0; ok && i < pixels; ++i) {
            const auto* e = lut[index[i]];
            if (e[3] == 0 || (has_nodata && index[i] == nodata)) {
                img.valid[i] = 0;
                continue;
            }
            std::copy_n(e, 3, img.rgb.begin() + static_cast<std::ptrdiff_t>(i * 3));
        }
    } else if (ok) {
        // Gray, gray + alpha, RGB, RGBA: the colour bands, and GDAL's mask (alpha band or nodata).
        // 8-bit samples only: GDAL would clip 16-bit ones to 255 (a white tile) and float ones to
        // 0..1 (a black one), and keep every pixel valid. A tile that is not is refused, saying why.
        if (const auto type = first->GetRasterDataType(); type != GDT_Byte) {
            ds.reset();
            VSIUnlink(name.c_str());
            throw std::runtime_error(std::string("image samples are ") + GDALGetDataTypeName(type) + ": only 8-bit tiles are read");
        }
        // A PNG of 1, 2 or 4 bits a sample (what optimisers make of few-colour tiles) holds
        // 0..2^bits-1: stretched to 0..255 below.
        const char* nbits = first->GetMetadataItem("NBITS", "IMAGE_STRUCTURE");
        const int bits = nbits ? std::atoi(nbits) : 8;
        const int n = ds->GetRasterCount();
        int colour = 0;
        for (int b = 1; b <= n; ++b)
            if (ds->GetRasterBand(b)->GetColorInterpretation() != GCI_AlphaBand) ++colour;
        int map[3] = {1, colour >= 3 ? 2 : 1, colour >= 3 ? 3 : 1};
        ok = ds->RasterIO(GF_Read, 0, 0, img.width, img.height, img.rgb.data(), img.width, img.height, GDT_Byte, 3, map, 3,
                          3L * img.width, 1) == CE_None;
        if (ok && bits >= 1 && bits < 8) {
            const int top = (1 << bits) - 1;
            for (auto& v : img.rgb) v = static_cast<std::uint8_t>(std::min(v, static_cast<std::uint8_t>(top)) * 255 / top);
        }
        if (ok && first->GetMaskFlags() != GMF_ALL_VALID) {
            ok = first->GetMaskBand()->RasterIO(GF_Read, 0, 0, img.width, img.height, img.valid.data(), img.width, img.height,
                                                GDT_Byte, 0, 0) == CE_None;
            for (std::size_t i = 0; i < pixels; ++i) {
                img.valid[i] = img.valid[i] > 0;
                if (!img.valid[i]) img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = 0;
            }
        }
    }
    ds.reset();
    VSIUnlink(name.c_str());
    if (!ok) throw std::runtime_error("broken image" + QuietGdal::why());
    return img;
}

} // namespace skyscript::imagery
