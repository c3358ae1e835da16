#pragma once
// The `gdal` source kind: any raster GDAL opens (GeoTIFF, COG, VRT, /vsicurl/ URLs,
// WMS/WMTS XML), warped onto a tile grid with GDALWarp, then turned into 8-bit RGB:
// gray is replicated to RGB, other types are stretched, alpha and nodata become the
// validity mask (black in the image).

#include "rgb_image.hpp"
#include "tile_grid.hpp"

#include <stdexcept>
#include <string>
#include <vector>

class GDALDataset;

namespace skyscript::imagery {

class RasterError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Stretch {
    // automatic: Byte data as is; other types from the tile's 2nd to 98th percentile.
    // fixed: [min, max] -> [0, 255] (e.g. 0..3000 for Sentinel-2 reflectance x 10,000).
    enum class Mode { automatic, fixed } mode = Mode::automatic;
    double min = 0, max = 255;
    double low_percent = 2, high_percent = 98;
};

struct RasterReadOptions {
    std::vector<int> bands;             // 1-based source bands for R, G, B; empty: by colour interpretation
    std::string resampling = "bilinear"; // any gdalwarp -r method
    Stretch stretch;
};

struct RasterInfo {
    int bands = 0;
    std::string data_type;  // "Byte", "UInt16", ...
    double gsd_m = 0;       // native pixel size in metres (approximate for geographic CRSs)
    LonLatBox coverage{-180, -90, 180, 90}; // lon/lat bounds (the whole world when they cannot be computed)
};

// Opens (once per thread, then reused) and describes a raster.
RasterInfo describe_raster(const std::string& path);

// Warps the raster onto `grid`. Throws RasterError naming the file when GDAL fails.
RgbImage read_raster_tile(const std::string& path, const TileGrid& grid, const RasterReadOptions& options);

// The same for an open dataset (e.g. a MEM mosaic of fetched tiles); `name` names it in errors.
RgbImage read_dataset_tile(GDALDataset* dataset, const std::string& name, const TileGrid& grid, const RasterReadOptions& options);

// Writes an RGB tile as a georeferenced 8-bit GeoTIFF (for inspection in QGIS).
void write_geotiff(const std::string& path, const RgbImage& image, const TileGrid& grid);

// The stretch of SPEC/issue: applied to float samples of valid pixels (exposed for tests).
void stretch_to_rgb8(const std::vector<const float*>& planes, const std::vector<std::uint8_t>& valid, std::size_t pixels,
                     bool byte_source, const Stretch& stretch, std::vector<std::uint8_t>& rgb);

} // namespace skyscript::imagery
