#pragma once
// The `xyz` source kind: a tile URL template ({z}/{x}/{y}, {-y} or tms = true for TMS
// rows, {q} for a quadkey), 256 or 512 px tiles. For each tile grid: the zoom from the
// GSD, the covering tiles fetched through the HTTP engine, stitched in Web Mercator,
// and warped onto the grid. A 404 tile is "no imagery here" (masked), any other
// failure fails the image with its reason.

#include "imagery/http_engine.hpp"
#include "imagery/rgb_image.hpp"
#include "imagery/source_config.hpp"
#include "imagery/tile_grid.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::imagery {

struct XyzTile {
    int z, x, y;
    bool operator<(const XyzTile& o) const { return std::tie(z, x, y) < std::tie(o.z, o.x, o.y); }
    bool operator==(const XyzTile&) const = default;
};

// The largest tile body taken: four times an uncompressed 16-bit RGBA tile (32 bytes a
// pixel). Anything longer is not a tile of this size, and is cut off (HttpRequest::max_body_bytes).
inline std::uint64_t xyz_max_tile_bytes(int tile_px) { return 32ull * std::uint64_t(tile_px) * std::uint64_t(tile_px); }

// Ground resolution (m/px) of a zoom level at a latitude, for `tile_px` tiles.
double xyz_resolution(int z, double lat, int tile_px);
// The coarsest zoom whose pixels are at least as fine as `gsd` (capped at max_zoom).
int xyz_zoom_for(double gsd, double lat, int tile_px, int max_zoom);
std::string xyz_quadkey(int z, int x, int y);
std::string xyz_url(const std::string& tmpl, const XyzTile& t, bool tms);
// Why a server's answer is not a web tile of px x px (an HTML page, an image of another size
// or depth), or nullopt. A JPEG's header and end marker are checked (a worker decodes it); any
// other format is decoded into `decoded`. What the fetch and `sources --check` both apply.
std::optional<std::string> xyz_tile_problem(const HttpResponse& resp, int px, RgbImage& decoded);
// The tiles at zoom z covering a lon/lat box (split at the antimeridian).
std::vector<XyzTile> xyz_covering_tiles(const LonLatBox& box, int z);

struct XyzImage {
    std::uint64_t id = 0;
    bool ok = false;
    RgbImage image;          // jpeg_quality 0: the image whole
    std::string jpeg;        // jpeg_quality > 0: the image as JPEG, encoded a band at a time (image left empty)
    double valid_fraction = 0; // share of the image's pixels with data, either way
    bool flat = false;         // its pixels with data all one colour, either way (flat_colour.hpp)
    std::string error;
    bool no_imagery = false; // every web tile of the grid answered 404: the server has none here (not a fault)
    bool job_only = false;   // failed before any request: the grid's own fault (FetchedTile::job_only)
    double cpu_seconds = 0;  // stitching and warping, on the worker thread
};

// Fetches images for many grids at once: tiles through `engine` (which bounds what is
// in flight and retries), stitching and warping on `workers` threads as each grid's
// tiles arrive. `on_image` is called once per grid, from a worker thread. With `jpeg_quality`
// (1..100) each image is encoded as it is made and never held whole (XyzImage::jpeg).
void fetch_xyz_images(const SourceConfig& source, const std::vector<std::pair<std::uint64_t, TileGrid>>& grids,
                      HttpEngine& engine, int workers, int jpeg_quality, const std::function<void(XyzImage&&)>& on_image);

} // namespace skyscript::imagery
