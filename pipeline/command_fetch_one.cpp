// skyscript-build fetch-one --raster FILE --center LON,LAT --side-m M --gsd G -o OUT.jpg
// One tile from a local (or /vsicurl/) raster, for people and scripts.

#include "cli_args.hpp"
#include "commands.hpp"
#include "gdal_source.hpp"
#include "jpeg.hpp"
#include "earthengine_source.hpp"
#include "service_account.hpp"
#include "source_config.hpp"
#include "xyz_source.hpp"
#include "tile_grid.hpp"

#include <algorithm>
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
  --source ALIAS         a configured source instead (gdal, xyz or earthengine kind;
                         earthengine reads GOOGLE_APPLICATION_CREDENTIALS)
  --sources FILE         sources TOML (default: the built-in list)
  --center LON,LAT       tile centre in degrees
  --side-m M             tile side in metres
  --gsd G                pixel size in metres
  -o, --output OUT       .jpg/.jpeg or .tif
  --bands R,G,B          1-based source bands (default: the bands labelled red,
                         green, blue; one band is gray; unlabelled bands need
                         --bands); e.g. 3,2,1 for Landsat 1-2-3
  --stretch MIN,MAX      map MIN..MAX to 0..255 (default: Byte as is, other types
                         from the whole raster's 2nd-98th percentile, the same for
                         every tile)
  --stretch tile         from this tile's own 2nd-98th percentile instead
  --resampling R         gdalwarp method (default bilinear)
  --quality Q            JPEG quality 1-100 (default 90)
  -h, --help             this text
)";

std::vector<double> parse_numbers(const std::string& text, const std::string& what, std::size_t count) {
    std::vector<double> v;
    std::stringstream ss(text);
    for (std::string part; std::getline(ss, part, ',');) v.push_back(parse_double(part, what));
    if (v.size() != count) throw UsageError(what + ": expected " + std::to_string(count) + " comma-separated numbers, got `" + text + "`");
    return v;
}

void write_atomically(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".partial-" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            std::filesystem::remove(tmp);
            throw std::runtime_error(path + ": cannot write");
        }
    }
    std::filesystem::rename(tmp, path);
}

} // namespace

int command_fetch_one(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"raster", true, 0}, {"source", true, 0}, {"sources", true, 0}, {"center", true, 0}, {"side-m", true, 0}, {"gsd", true, 0},
                             {"output", true, 'o'}, {"bands", true, 0}, {"stretch", true, 0}, {"resampling", true, 0},
                             {"quality", true, 0}, {"help", false, 'h'}}};
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
    imagery::RasterReadOptions options;
    if (auto b = cli.value("bands")) {
        std::stringstream ss(*b);
        for (std::string part; std::getline(ss, part, ',');) options.bands.push_back(static_cast<int>(parse_double(part, "--bands")));
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
    const bool tiff = out.ends_with(".tif") || out.ends_with(".tiff");
    if (!tiff && !out.ends_with(".jpg") && !out.ends_with(".jpeg")) throw UsageError("-o: expected a .jpg, .jpeg or .tif file name");

    imagery::TileGrid grid;
    try {
        grid = imagery::make_tile_grid(center[0], center[1], side, gsd);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--center/--side-m/--gsd: ") + e.what());
    }
    std::string raster, acquired;
    imagery::RgbImage image;
    if (cli.value("raster")) {
        raster = *cli.value("raster");
        image = imagery::read_raster_tile(raster, grid, options);
    } else {
        const auto sources = cli.value("sources") ? imagery::load_sources_file(*cli.value("sources")) : imagery::builtin_sources();
        const auto alias = *cli.value("source");
        const auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& s) { return s.alias == alias; });
        if (it == sources.end()) throw UsageError("--source: no source `" + alias + "` in " + cli.value("sources").value_or("the built-in list"));
        if (it->kind == imagery::SourceKind::gdal) {
            raster = it->path;
            if (it->stretch && options.stretch.mode == imagery::Stretch::Mode::automatic) {
                options.stretch.mode = imagery::Stretch::Mode::fixed;
                options.stretch.min = it->stretch->first;
                options.stretch.max = it->stretch->second;
            }
            if (options.bands.empty())
                for (const auto& b : it->bands) options.bands.push_back(std::stoi(b));
            image = imagery::read_raster_tile(raster, grid, options);
        } else if (it->kind == imagery::SourceKind::xyz) {
            raster = "source " + alias;
            imagery::HttpEngine engine;
            std::string error;
            imagery::fetch_xyz_images(*it, {{0, grid}}, engine, 1, [&](imagery::XyzImage&& r) {
                if (r.ok) image = std::move(r.image);
                else error = std::move(r.error);
            });
            if (!error.empty()) throw std::runtime_error(raster + ": " + error);
        } else {
            raster = "source " + alias;
            auto account = imagery::service_account_from_environment();
            const std::string project = it->project.empty() ? account.project_id : it->project;
            if (project.empty()) throw std::runtime_error(raster + ": no Cloud project (set `project` in the source or use a key with project_id)");
            imagery::TokenCache tokens(std::move(account));
            imagery::HttpEngine engine;
            std::string error;
            imagery::fetch_earthengine_images(*it, project, {{0, grid}}, engine, tokens, [&](imagery::EarthEngineImage&& r) {
                if (!r.ok) {
                    error = std::move(r.error);
                    return;
                }
                image = std::move(r.image);
                if (r.time_ms > 0) {
                    const std::time_t t = static_cast<std::time_t>(r.time_ms / 1000);
                    char date[32];
                    std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&t));
                    acquired = date;
                }
            });
            if (!error.empty()) throw std::runtime_error(error);
        }
    }
    const double valid = image.valid_fraction();
    if (valid == 0 && cli.value("source")) throw std::runtime_error(raster + ": no data in this tile");
    if (valid == 0) {
        const auto info = imagery::describe_raster(raster);
        char buf[160];
        std::snprintf(buf, sizeof buf, ": no data in this tile (the raster covers lon %.5f..%.5f, lat %.5f..%.5f)",
                      info.coverage.west, info.coverage.east, info.coverage.south, info.coverage.north);
        throw std::runtime_error(raster + buf);
    }
    if (tiff) {
        const std::string tmp = out + ".partial-" + std::to_string(::getpid()) + ".tif";
        imagery::write_geotiff(tmp, image, grid);
        std::filesystem::rename(tmp, out);
    } else {
        write_atomically(out, imagery::encode_jpeg(image, quality));
    }
    std::printf("%s: %dx%d px, %s, lon %.6f..%.6f, lat %.6f..%.6f, %.1f%% with data%s\n", out.c_str(), grid.width, grid.height,
                grid.crs().c_str(), grid.box.west, grid.box.east, grid.box.south, grid.box.north, valid * 100,
                acquired.empty() ? "" : (", acquired " + acquired).c_str());
    return 0;
}

} // namespace skyscript::pipeline
