// skyscript-build fetch-one --raster FILE --center LON,LAT --side-m M --gsd G -o OUT.jpg
// One tile from a local (or /vsicurl/) raster, for people and scripts.

#include "imagery/acquisition_time.hpp"
#include "imagery/image_source.hpp"
#include "imagery/jpeg.hpp"
#include "imagery/source_config.hpp"
#include "imagery/source_kind.hpp"
#include "imagery/sources/gdal/gdal_kind.hpp"
#include "imagery/sources/gdal/gdal_source.hpp"
#include "imagery/tile_grid.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/cli_args.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace skyscript::pipeline {

namespace {

constexpr const char* fetch_one_help = R"(Usage: skyscript-build fetch-one --raster FILE --center LON,LAT --side-m M --gsd G -o OUT.jpg
       skyscript-build fetch-one --source ALIAS [--sources FILE] --center LON,LAT --side-m M --gsd G -o OUT.jpg

Warps a square tile of M metres (width = height = round(M / G) px) centred on
LON,LAT, in the UTM zone of the centre, from any raster GDAL reads, and writes
it as a JPEG (or, for OUT.tif, a georeferenced 8-bit RGB GeoTIFF).

  --raster FILE          GeoTIFF, COG, VRT, /vsicurl/ URL, WMS/WMTS XML, ...
  --source ALIAS         a configured source instead (gdal, xyz, stac or earthengine kind;
                         earthengine reads GOOGLE_APPLICATION_CREDENTIALS)
  --sources FILE         sources TOML (default: the built-in list)
  --center LON,LAT       tile centre in degrees
  --side-m M             tile side in metres
  --gsd G                pixel size in metres
  -o, --output OUT       .jpg/.jpeg or .tif/.tiff (any case)
  --bands R,G,B          1-based source bands (default: the bands labelled red,
                         green, blue; one band is gray; unlabelled bands need
                         --bands); e.g. 3,2,1 for Landsat 1-2-3. --bands, --stretch
                         and --resampling are for rasters (gdal, stac; --stretch
                         MIN,MAX earthengine too): refused for a source they do not
                         apply to
  --stretch MIN,MAX      map MIN..MAX to 0..255 (default: Byte as is, other types
                         from the whole raster's 2nd-98th percentile, the same for
                         every tile)
  --stretch tile         from this tile's own 2nd-98th percentile instead
  --resampling R         gdalwarp method (default bilinear)
  --quality Q            JPEG quality 1-100 (default 90)
  --timeout S            seconds per HTTP transfer, network sources (default 60)
  --attempts N           HTTP attempts per request (default 5)
  -q, --quiet            no line about the tile written
  -h, --help             this text
)";

std::vector<double> parse_numbers(const std::string& text, const std::string& what, std::size_t count) {
    std::vector<double> v;
    std::stringstream ss(text);
    for (std::string part; std::getline(ss, part, ',');) v.push_back(parse_double(part, what));
    if (v.size() != count) throw UsageError(what + ": expected " + std::to_string(count) + " comma-separated numbers, got `" + text + "`");
    return v;
}

} // namespace

int command_fetch_one(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"raster", true, 0}, {"source", true, 0}, {"sources", true, 0}, {"center", true, 0}, {"side-m", true, 0}, {"gsd", true, 0},
                             {"output", true, 'o'}, {"bands", true, 0}, {"stretch", true, 0}, {"resampling", true, 0},
                             {"quality", true, 0}, {"timeout", true, 0}, {"attempts", true, 0}, {"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::fputs(fetch_one_help, stdout);
        return 0;
    }
    for (const char* required : {"center", "side-m", "gsd", "output"})
        if (!cli.value(required)) throw UsageError(std::string("fetch-one needs --") + required);
    if (cli.flag("raster") == cli.flag("source")) throw UsageError("fetch-one needs one of --raster and --source");
    if (!cli.positional().empty()) throw UsageError("fetch-one takes no positional argument");
    const auto center = parse_numbers(*cli.value("center"), "--center", 2);
    const double side = parse_double(*cli.value("side-m"), "--side-m");
    const double gsd = parse_double(*cli.value("gsd"), "--gsd");
    const auto out = *cli.value("output");
    // Written as a file and renamed into place: GDAL's virtual paths (/vsimem/, /vsizip/...) are
    // no folder to rename in (an empty new.zip was left, or "cannot rename" thrown raw).
    if (out.starts_with("/vsi")) throw UsageError("-o takes a file's path, not a GDAL virtual path (" + out + ")");
    imagery::RasterReadOptions options;
    if (auto b = cli.value("bands")) {
        std::stringstream ss(*b);
        // Whole band numbers, as a sources file's `bands` are: 2147483648 had wrapped to band
        // -2147483648 in the error, and 1.5 was band 1 (red-team round 37).
        for (std::string part; std::getline(ss, part, ',');) {
            const double v = parse_double(part, "--bands");
            if (!(v >= 1 && v <= 65535) || v != std::floor(v)) throw UsageError("--bands: expected 1-based band numbers (1-65535), got `" + part + "`");
            options.bands.push_back(static_cast<int>(v));
        }
    }
    if (auto s = cli.value("stretch"); s && *s == "tile") {
        options.stretch.mode = imagery::Stretch::Mode::tile;
    } else if (s) {
        const auto mm = parse_numbers(*s, "--stretch", 2);
        if (!(mm[1] > mm[0])) throw UsageError("--stretch: MAX must be greater than MIN");
        options.stretch.mode = imagery::Stretch::Mode::fixed;
        options.stretch.min = mm[0];
        options.stretch.max = mm[1];
    }
    options.resampling = cli.value("resampling").value_or("bilinear");
    const int quality = static_cast<int>(parse_double(cli.value("quality").value_or("90"), "--quality"));
    if (quality < 1 || quality > 100) throw UsageError("--quality: expected 1..100");
    std::string extension = std::filesystem::path(out).extension().string(); // .JPG as .jpg: cameras and Windows name files so
    std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool tiff = extension == ".tif" || extension == ".tiff";
    if (!tiff && extension != ".jpg" && extension != ".jpeg") throw UsageError("-o: expected a .jpg, .jpeg, .tif or .tiff file name");

    imagery::TileGrid grid;
    try {
        grid = imagery::make_tile_grid(center[0], center[1], side, gsd);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--center/--side-m/--gsd: ") + e.what());
    }
    // Whatever the kind, the tile comes through the one source interface the fetch stage uses.
    imagery::SourceConfig config;
    if (cli.value("raster")) {
        config = imagery::gdal_raster_source(*cli.value("raster"));
    } else {
        const auto sources = configured_sources(cli.value("sources").value_or(""));
        const auto alias = *cli.value("source");
        const auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& s) { return s.alias == alias; });
        if (it == sources.end()) throw UsageError("--source: no source `" + alias + "` in " + cli.value("sources").value_or("the built-in list"));
        config = *it;
    }
    // What the source's kind would not use is refused, not dropped: an xyz tile came back the
    // same whatever --bands, --stretch or --resampling said, with exit 0 (red-team round 31).
    // The kind says which it ignores (SourceKind::ignores).
    const auto refuse = [&](const char* option, std::string_view setting) {
        if (!cli.value(option)) return;
        if (const auto why = config.kind->ignores(config, setting))
            throw UsageError(std::string("--") + option + " does not apply to source " + config.alias + " (" + std::string(config.kind->name()) + ": " + *why + ")");
    };
    refuse("bands", "bands");
    refuse("stretch", "stretch");
    refuse("resampling", "resampling");
    if (options.stretch.mode == imagery::Stretch::Mode::tile) refuse("stretch", "stretch tile");
    if (!options.bands.empty()) {
        config.bands.clear();
        for (int b : options.bands) config.bands.push_back(std::to_string(b));
    }
    if (options.stretch.mode == imagery::Stretch::Mode::fixed) config.stretch = std::pair{options.stretch.min, options.stretch.max};
    imagery::ImageSourceOptions source_options;
    source_options.resampling = options.resampling;
    source_options.stretch_per_tile = options.stretch.mode == imagery::Stretch::Mode::tile;
    source_options.workers = 1;
    source_options.http.timeout_s = parse_double(cli.value("timeout").value_or("60"), "--timeout");
    if (!(source_options.http.timeout_s > 0))
        throw UsageError("--timeout: expected a positive number of seconds, got `" + *cli.value("timeout") + "`");
    const double attempts = parse_double(cli.value("attempts").value_or("5"), "--attempts");
    if (!(attempts >= 1 && attempts <= 1000 && attempts == std::floor(attempts)))
        throw UsageError("--attempts: expected a whole number 1..1000, got `" + *cli.value("attempts") + "`");
    source_options.http.max_attempts = static_cast<int>(attempts);
    imagery::FetchedTile tile;
    const imagery::TileJob job{0, grid};
    imagery::open_image_source(config, source_options)->fetch({&job, 1}, [&](imagery::FetchedTile&& t) { tile = std::move(t); });
    // The kind says why there is no tile, naming the source as its messages do.
    if (!tile.ok) throw std::runtime_error(config.kind->explain_missing_tile(config, tile));
    const imagery::RgbImage& image = tile.image;
    std::string acquired;
    if (const auto utc = imagery::acquisition_utc(tile.time_ms)) {
        char date[32];
        std::strftime(date, sizeof date, "%Y-%m-%d", &*utc);
        acquired = date;
    }
    const double valid = image.valid_fraction();
    if (valid == 0) throw std::runtime_error(config.kind->explain_missing_tile(config, tile));
    // What a fetch-one of this file stopped by a signal or a kill left (red-team round 34: a
    // half-written NAME.partial-PID.tif that GDAL opened as a black image, for ever).
    remove_partial_files_of(out);
    if (tiff) {
        // Named as the build's partial files are, and not ending in .tif: no glob of the
        // folder's rasters takes it for one (the GTiff driver is named, not guessed).
        const std::string tmp = out + ".partial-" + std::to_string(::getpid()) + "-0";
        imagery::write_geotiff(tmp, image, grid);
        std::filesystem::rename(tmp, out);
    } else {
        write_file_atomically(out, imagery::encode_jpeg(image, quality));
    }
    if (!cli.flag("quiet"))
        std::printf("%s: %dx%d px, %s, lon %.6f..%.6f, lat %.6f..%.6f, %.1f%% with data%s\n", out.c_str(), grid.width, grid.height,
                grid.crs().c_str(), grid.box.west, grid.box.east, grid.box.south, grid.box.north, valid * 100,
                acquired.empty() ? "" : (", acquired " + acquired).c_str());
    return 0;
}

} // namespace skyscript::pipeline
