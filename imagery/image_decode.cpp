#include "image_decode.hpp"

#include "jpeg.hpp"

#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace skyscript::imagery {

RgbImage decode_image(const std::string& body) {
    if (body.size() > 2 && static_cast<unsigned char>(body[0]) == 0xFF && static_cast<unsigned char>(body[1]) == 0xD8)
        return decode_jpeg(body);
    static std::once_flag registered;
    std::call_once(registered, [] { GDALAllRegister(); });
    static std::atomic<int> counter{0};
    const std::string name = "/vsimem/skyscript-tile-" + std::to_string(counter++);
    VSILFILE* f = VSIFileFromMemBuffer(name.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(body.data())), body.size(), FALSE);
    if (!f) throw std::runtime_error("cannot read the tile body");
    VSIFCloseL(f);
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(name.c_str(), GDAL_OF_RASTER));
    if (!ds) {
        VSIUnlink(name.c_str());
        throw std::runtime_error("not an image GDAL can read");
    }
    RgbImage img;
    img.width = ds->GetRasterXSize();
    img.height = ds->GetRasterYSize();
    img.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
    const int n = ds->GetRasterCount();
    int map[3] = {1, n >= 3 ? 2 : 1, n >= 3 ? 3 : 1};
    const bool ok = ds->RasterIO(GF_Read, 0, 0, img.width, img.height, img.rgb.data(), img.width, img.height, GDT_Byte, 3,
                                 map, 3, 3L * img.width, 1) == CE_None;
    img.valid.assign(static_cast<std::size_t>(img.width) * img.height, 1);
    if (n == 4 || n == 2) { // alpha
        std::vector<std::uint8_t> a(img.valid.size());
        if (ds->GetRasterBand(n)->RasterIO(GF_Read, 0, 0, img.width, img.height, a.data(), img.width, img.height, GDT_Byte, 0, 0) == CE_None)
            for (std::size_t i = 0; i < a.size(); ++i) img.valid[i] = a[i] > 0;
    }
    ds.reset();
    VSIUnlink(name.c_str());
    if (!ok) throw std::runtime_error("broken image");
    return img;
}

} // namespace skyscript::imagery
