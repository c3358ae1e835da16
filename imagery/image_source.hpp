#pragma once
// One interface for every source kind (docs/sources.md): give it a batch of tile
// grids, it calls back once per grid with the 8-bit RGB image (and its validity mask)
// or the reason there is none. `fetch-one` and the pipeline's fetch stage both use it,
// so neither knows which kind it talks to; each kind opens its own (SourceKind::open).
// Callers bound memory by the batch size: a batch is fetched whole before the next.

#include "imagery/flat_colour.hpp"
#include "imagery/http_engine.hpp"
#include "imagery/rgb_image.hpp"
#include "imagery/source_config.hpp"
#include "imagery/tile_grid.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace skyscript::imagery {

struct TileJob {
    std::uint64_t id = 0; // the caller's
    TileGrid grid;
};

struct FetchedTile {
    std::uint64_t id = 0;
    bool ok = false;
    RgbImage image;
    // The image as JPEG, from a kind that encodes as it makes it when asked to
    // (ImageSourceOptions::jpeg_quality; xyz): `image` is then empty, and jpeg_valid_fraction
    // is what image.valid_fraction() would have been. Read both through valid_fraction().
    std::string jpeg;
    double jpeg_valid_fraction = 0;
    bool jpeg_flat = false; // with jpeg: what is_flat_colour(image) would have been
    std::string error;      // why not, when !ok
    bool no_imagery = false; // !ok because the source has no image for this tile (not a fault): another source may
    // !ok for a reason of the job's own, found without asking anyone (a tile past Web Mercator's
    // 85.05 degrees, a request too large): no sign that the source is down.
    bool job_only = false;
    long long time_ms = 0;  // acquisition time where the source tells it (Earth Engine, stac), else 0: acquisition_time.hpp
    // Where the pixels came from, as a JSON object the meta carries (stac: the item, its
    // collection, datetime, cloud cover, asset URL without a token, licence); "" for none.
    std::string provenance;
    double cpu_seconds = 0; // warping / stitching on the worker

    double valid_fraction() const { return jpeg.empty() ? image.valid_fraction() : jpeg_valid_fraction; }
    // Its pixels with data all one colour (flat_colour.hpp): a source set up wrong, most likely.
    bool flat() const { return jpeg.empty() ? is_flat_colour(image) : jpeg_flat; }
};

struct ImageSourceOptions {
    HttpEngineOptions http;  // network kinds
    int workers = 0;         // pixel threads; 0 = one per core (network sources: one fewer)
    // The cores this process may use, as its caller counts them (the pipeline's usable_cores:
    // its CPU affinity, as a Slurm allocation or taskset sets it); 0: every core of the machine.
    int cores = 0;
    std::string resampling = "bilinear"; // gdal kind
    bool stretch_per_tile = false;       // gdal kind, non-Byte data without a fixed stretch
    // 1..100: a kind that can encodes each image at this quality as it makes it, and hands
    // back FetchedTile::jpeg instead of the image (xyz: only a band of it is ever held); 0: images.
    int jpeg_quality = 0;
};

class ImageSource {
public:
    virtual ~ImageSource() = default;
    const SourceConfig& config() const noexcept { return config_; }

    // Fetches every job of `jobs`; `on_tile` is called exactly once per job, possibly from
    // several threads at once (it must be thread-safe). Returns when all have been called.
    virtual void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) = 0;

    // The jobs of the batch after the one about to be fetched, as a hint: a source may start
    // on them during the next fetch (Earth Engine looks up their times alongside, so the
    // batch after starts on pixels at once). It changes no answer; default: ignored.
    virtual void look_ahead(std::span<const TileJob> /*next*/) {}

    // HTTP requests made so far (0 for local rasters).
    virtual std::uint64_t requests() const noexcept { return 0; }

protected:
    explicit ImageSource(SourceConfig config) : config_(std::move(config)) {}
    SourceConfig config_;
};

// Opens a source for use, as its kind does (SourceKind::open): checks what can be checked
// up front (credentials for Earth Engine, the raster for gdal) and throws
// std::runtime_error naming the source otherwise.
std::unique_ptr<ImageSource> open_image_source(const SourceConfig& config, const ImageSourceOptions& options = {});

// For the kinds: pixel threads for `asked` (0: one per core of `cores`, as in
// ImageSourceOptions), jobs as (id, grid) pairs, and the CPU time of the calling thread (what
// a tile cost its worker).
int image_workers(int asked, int cores);
// The same for a source whose pixels arrive through the HTTP engine: by default one core is
// left to the engine's thread (at least one worker), which starts a request as soon as a slot
// frees; sharing both cores with pixel work it started them late (bench/fetch: 0.89 -> 0.94
// of the network ideal on 2 cores, issue 25).
int network_image_workers(int asked, int cores);
std::vector<std::pair<std::uint64_t, TileGrid>> tile_grids(std::span<const TileJob> jobs);
double thread_cpu_seconds();

} // namespace skyscript::imagery
