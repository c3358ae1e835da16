#pragma once
// The `gdal` source kind: any raster GDAL opens (GeoTIFF, COG, VRT, /vsicurl/ URLs,
// WMS/WMTS XML), warped onto a tile grid with GDALWarp, then turned into 8-bit RGB:
// gray is replicated to RGB, other types are stretched, alpha and nodata become the
// validity mask (black in the image).

#include "imagery/one_line_text.hpp"
#include "imagery/rgb_image.hpp"
#include "imagery/tile_grid.hpp"
#include "imagery/url_redaction.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

class GDALDataset;
class OGRCoordinateTransformation;

namespace skyscript::imagery {

// Its message names the raster: a /vsicurl/ URL's secrets (a signature, a key) and those
// in GDAL's own messages are redacted here, once for every message; and it is one line of
// no control character, bounded: GDAL quotes a WMS server's exception or page as it came.
class RasterError : public std::runtime_error {
public:
    explicit RasterError(const std::string& what) : std::runtime_error(one_line_text(redact_url(what))) {}
};

struct Stretch {
    // automatic: Byte data as is; other types from the whole raster's 2nd to 98th
    //   percentile, computed once per raster and bands (raster_stretch_range), so every
    //   tile of a source has the same colours.
    // fixed: [min, max] -> [0, 255] (e.g. 0..3000 for Sentinel-2 reflectance x 10,000).
    // tile: each tile from its own percentiles (colours change from tile to tile).
    enum class Mode { automatic, fixed, tile } mode = Mode::automatic;
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

// GDAL's own HTTP (/vsicurl/ COGs, WMS) has no timeout by default: a stalled server would
// hold a tile, and the build, for ever. These become GDAL_HTTP_TIMEOUT,
// GDAL_HTTP_CONNECTTIMEOUT and GDAL_HTTP_MAX_RETRY (with GDAL_HTTP_RETRY_DELAY), each only
// where the environment does not set it (process-wide, as GDAL's configuration is); what an
// earlier call set is replaced.
void set_gdal_http_defaults(double timeout_s, double connect_timeout_s, int attempts);

// Rasters stay open for the thread that read them, the 32 it used last (a COG's header is
// read once, not per tile): how many this thread holds now.
std::size_t open_raster_count();
// Closes them. A thread that read rasters calls it before it ends: closed later, among the
// thread's own destructors, they would make GDAL a PROJ context for the thread anew after
// it destroyed its own, and that one is never freed (512 bytes a thread, LeakSanitizer).
void close_rasters_of_this_thread();

// No listing of a raster's folder while GDAL opens it, for this thread and this scope (the
// previous setting comes back after): GDAL then looks for no side file (X.ovr, X.msk) beside
// it. A remote raster's listing is a request, and its side files would be the server's.
class NoReaddirOnOpen {
public:
    NoReaddirOnOpen();
    ~NoReaddirOnOpen();
    NoReaddirOnOpen(const NoReaddirOnOpen&) = delete;
    NoReaddirOnOpen& operator=(const NoReaddirOnOpen&) = delete;

private:
    std::string previous_;
    bool had_previous_ = false;
};

// The local file a GDAL name reads: the name itself, or for a path into a local archive
// (/vsizip/, /vsitar/, /vsigzip/, /vsi7z/, /vsirar/, with or without {braces}) the archive, for
// a part of a file (/vsisubfile/) or an encrypted one (/vsicrypt/) that file;
// "" for remote data (/vsicurl/, /vsis3/, URLs, an archive behind one), /vsimem/, inline XML.
std::string local_file_behind(const std::string& name);

// Every local file GDAL reads for the raster at `path` (a file name or an inline
// <VRTDataset>): a VRT's file and sidecars and its members (read from its XML, nested VRTs
// followed); another raster's own list from GDAL (GDALGetFileList: the file, its overviews,
// masks, .aux.xml and world files); sorted, each once; an archive for what is read inside
// it. Remote files (/vsicurl/, /vsis3/, URLs) are left out, never asked after. A raster
// that does not open lists its path alone (its error comes when it is read).
std::vector<std::string> raster_local_files(const std::string& path);

// A raster's lon/lat box from its edges (geotransform gt, w x h pixels, to_lon_lat from its CRS
// to WGS 84 lon/lat): every longitude up to a pole inside it, west > east across the
// antimeridian; nullopt when its edges cannot be placed.
std::optional<LonLatBox> raster_footprint(const double gt[6], double w, double h, OGRCoordinateTransformation& to_lon_lat);

// Opens (once per thread, then reused) and describes a raster.
RasterInfo describe_raster(const std::string& path);

// Why the raster's bands give no R, G, B for `bands` (the source's `bands`, none: by their
// colour labels), as a tile's read would fail; "" when they do. For --check and a source's
// opening: an unlabelled 2-band or 16-bit stack had passed --check as usable, then failed
// every job of the build.
std::string rgb_band_problem(const std::string& path, const std::vector<int>& bands);

// Warps the raster onto `grid`. Throws RasterError naming the file when GDAL fails.
RgbImage read_raster_tile(const std::string& path, const TileGrid& grid, const RasterReadOptions& options);

// The same for an open dataset (e.g. a MEM mosaic of fetched tiles); `name` names it in errors.
RgbImage read_dataset_tile(GDALDataset* dataset, const std::string& name, const TileGrid& grid, const RasterReadOptions& options);

// Writes an RGB tile as a georeferenced 8-bit GeoTIFF (for inspection in QGIS).
void write_geotiff(const std::string& path, const RgbImage& image, const TileGrid& grid);

// The range of the automatic stretch for `bands` (1-based R, G, B) of a raster: its
// low..high percentiles over the whole raster (read at most 1024 px a side, from an
// overview where there is one; a raster over 4096 px without overviews is sampled in
// 1,024 small windows instead; valid pixels only). Computed once per process for each
// name, bands and percentiles, then shared by every thread: `name` must identify the
// raster (its path). Throws RasterError naming it when GDAL cannot read it.
std::pair<double, double> raster_stretch_range(GDALDataset* dataset, const std::string& name, const std::vector<int>& bands,
                                               const Stretch& stretch);

// The stretch applied to float samples of valid pixels (exposed for tests): fixed maps
// min..max; tile takes the percentiles of these samples, also for Byte sources;
// automatic keeps Byte as is and takes the percentiles of these samples for other types
// (read_dataset_tile has already replaced it by the raster's range).
void stretch_to_rgb8(const std::vector<const float*>& planes, const std::vector<std::uint8_t>& valid, std::size_t pixels,
                     bool byte_source, const Stretch& stretch, std::vector<std::uint8_t>& rgb);

} // namespace skyscript::imagery
