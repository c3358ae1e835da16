#include "imagery/sources/gdal/gdal_source.hpp"

#include "imagery/sources/gdal/verified_wmts.hpp"

#include "imagery/gdal_drivers.hpp"
#include "imagery/tile_grid.hpp"

#include <cpl_conv.h>
#include <cpl_minixml.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <gdal_utils.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include <sys/stat.h>

namespace skyscript::imagery {

namespace {

// GDAL verifies TLS certificates of remote rasters (/vsicurl/, WMS) unless
// GDAL_HTTP_UNSAFESSL is set: that is never our choice, and never silent.
void warn_if_tls_unverified() {
    if (CPLTestBool(CPLGetConfigOption("GDAL_HTTP_UNSAFESSL", "NO")))
        std::fputs("skyscript-build: WARNING: GDAL_HTTP_UNSAFESSL is set: TLS certificates of remote rasters are NOT verified "
                   "(anyone on the path can send other imagery); unset it to verify them\n",
                   stderr);
}

// A user's own WMS or WMTS description that sets UnsafeSSL true (gdal_translate -of WMS writes
// it so): their choice, never silent; once a description.
void warn_if_description_unverified(const std::string& path) {
    if (!description_sets_unsafe_ssl(path)) return;
    static std::mutex m;
    static std::set<std::string> warned;
    const std::lock_guard lock(m);
    if (!warned.insert(path).second) return;
    std::fprintf(stderr, "skyscript-build: WARNING: %s sets <UnsafeSSL>true</UnsafeSSL>: TLS certificates of its server are NOT verified "
                         "(anyone on the path can send other imagery); remove it to verify them\n",
                 one_line_text(redact_url(path.starts_with("<") ? std::string("an inline description") : path)).c_str());
}

// The environment's values win (a user's GDAL_HTTP_TIMEOUT for a slow server); ours, set by an
// earlier call (when OUT was opened, then by the fetch's image source), are replaced. Set only
// when they differ: GDAL invalidates the string a reader of the key holds.
void set_if_unset(const char* key, const std::string& value) {
    static std::mutex mutex;
    static std::set<std::string> ours;
    std::lock_guard lock(mutex);
    if (const char* now = CPLGetConfigOption(key, nullptr); now && (!ours.count(key) || value == now)) return;
    CPLSetConfigOption(key, value.c_str());
    ours.insert(key);
}

void register_gdal() {
    static std::once_flag once;
    std::call_once(once, [] {
        register_gdal_drivers();
        warn_if_tls_unverified();
    });
}

struct DatasetCloser {
    void operator()(GDALDataset* ds) const { GDALClose(ds); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

// A paletted raster's samples are indices into its colour table: it is read through a
// VRT that expands the palette to RGB (RGBA when an entry is transparent), as
// `gdal_translate -expand rgb[a]` does, so warping interpolates colours, not indices.
DatasetPtr expand_palette(GDALDataset* ds, const std::string& path) {
    GDALRasterBand* band = ds->GetRasterBand(1);
    const GDALColorTable* table = band->GetColorTable();
    if (ds->GetRasterCount() != 1 || !table || band->GetColorInterpretation() != GCI_PaletteIndex) return nullptr;
    bool transparent = false;
    for (int i = 0; i < table->GetColorEntryCount(); ++i) transparent |= table->GetColorEntry(i)->c4 < 255;
    std::string expand = transparent ? "rgba" : "rgb";
    std::vector<std::string> args{"-of", "VRT", "-expand", expand, "-q"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::unique_ptr<GDALTranslateOptions, decltype(&GDALTranslateOptionsFree)> opts(GDALTranslateOptionsNew(argv.data(), nullptr),
                                                                                    GDALTranslateOptionsFree);
    int usage_error = 0;
    DatasetPtr out(GDALDataset::FromHandle(GDALTranslate("", GDALDataset::ToHandle(ds), opts.get(), &usage_error)));
    if (!out) throw RasterError(path + ": cannot expand its colour palette (GDAL: " + std::string(CPLGetLastErrorMsg()) + ")");
    return out;
}

// Open datasets are reused per thread: GDAL datasets are not safe to share between
// threads, and reopening a COG or WMS description per tile is the expensive part. A
// thread keeps the ones it used last (a stac build opens a COG per item, and a planet
// has millions): the least recently used is closed beyond this many.
constexpr std::size_t open_rasters_per_thread = 32;

struct OpenRaster {
    DatasetPtr file, expanded; // `expanded`: the palette VRT over `file`, when paletted
    std::uint64_t used = 0;
    GDALDataset* get() const { return expanded ? expanded.get() : file.get(); }
};
thread_local std::map<std::string, OpenRaster> open_rasters; // by path

// A raster a server sends is opened as an image format only, never as a description naming
// other files: a VRT served as a COG would have GDAL read local files (a raw band over
// /etc/...) or other hosts into the dataset's images. Local files and WMS: descriptions are
// the user's own, opened by any driver.
bool served_by_a_server(const std::string& path) {
    for (const char* scheme : {"http://", "https://", "ftp://"})
        if (has_url_scheme(path, scheme)) return true; // any case, as GDAL's HTTP driver takes them
    return behind_network_file_system(path);
}
const char* const served_raster_drivers[] = {"GTiff", "JP2OpenJPEG", "PNG", "JPEG", "WEBP", nullptr};
// A bare http(s) URL is a service GDAL asks (a WMS or WMTS endpoint, `...?SERVICE=WMS`), not a file.
const char* const served_service_drivers[] = {"GTiff", "JP2OpenJPEG", "PNG", "JPEG", "WEBP", "WMS", "WMTS", nullptr};

} // namespace

NoReaddirOnOpen::NoReaddirOnOpen() {
    constexpr const char* key = "GDAL_DISABLE_READDIR_ON_OPEN";
    if (const char* v = CPLGetThreadLocalConfigOption(key, nullptr)) previous_ = v, had_previous_ = true;
    CPLSetThreadLocalConfigOption(key, "EMPTY_DIR");
}

NoReaddirOnOpen::~NoReaddirOnOpen() { CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", had_previous_ ? previous_.c_str() : nullptr); }

namespace {

bool is_vrt(const std::string& path);

// The largest block of one band a raster may have (a 8,192 x 8,192 Byte block, 4,096 x 4,096 floats).
constexpr std::int64_t max_block_bytes = std::int64_t{64} << 20;

// A local file (or the one behind /vsigzip/ and the like) that is not a regular file: opened,
// a pipe waits for a writer and a device reads for ever (a plan stamping the raster hung).
void refuse_special_file(const std::string& name) {
    // A sparse file's description names the files its regions read: they could be neither
    // stamped nor checked, so a change to them would go unseen by resume and --reuse.
    if (name.find("/vsisparse/") != std::string::npos) // behind /vsisubfile/ or /vsigzip/ too
        throw RasterError(name + ": GDAL's /vsisparse/ is not read (the files its description names cannot be stamped, so their changes would go unseen); give the raster itself");
    const auto local = local_file_behind(name);
    struct stat st {};
    if (!local.empty() && ::stat(local.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        throw RasterError(local + ": is a pipe or a device, not a raster file");
}

GDALDataset* open_raster(const std::string& path) {
    register_gdal();
    auto& cache = open_rasters;
    thread_local std::uint64_t uses = 0;
    if (auto it = cache.find(path); it != cache.end()) {
        it->second.used = ++uses;
        return it->second.get();
    }
    refuse_special_file(path);
    // A VRT's members are opened only when a block is read: a pipe among them is refused now.
    if (path.starts_with("<") || is_vrt(path)) (void)raster_local_files(path);
    CPLErrorReset();
    const bool served = served_by_a_server(path);
    const bool service = has_url_scheme(path, "http://") || has_url_scheme(path, "https://");
    // A WMTS source through a description that keeps certificate checks on (verified_wmts.hpp).
    const auto wmts = wmts_description_of_name(path);
    // Nor does a served raster bring files of its own: its sidecars (X.ovr, X.msk, opened by any
    // driver) are not looked for beside it.
    std::optional<NoReaddirOnOpen> no_readdir;
    if (served) no_readdir.emplace();
    const auto open = [&](const std::string& name) {
        return DatasetPtr(GDALDataset::Open(name.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                            !served ? nullptr : service ? served_service_drivers : served_raster_drivers, nullptr, nullptr));
    };
    DatasetPtr ds = open(wmts ? *wmts : path);
    // A capabilities document (a URL or a file) the WMTS driver took: opened again through a
    // description. A description of the user's: its UnsafeSSL theirs, warned of.
    const std::string driver = ds ? ds->GetDriver()->GetDescription() : "";
    if (driver == "WMTS" || driver == "WMS") {
        if (!wmts && driver == "WMTS" && !is_wmts_description(path)) {
            ds.reset();
            CPLErrorReset();
            ds = open(wmts_description_of_capabilities(path));
        } else {
            warn_if_description_unverified(path);
        }
    }
    no_readdir.reset();
    if (!ds) {
        std::string why = CPLGetLastErrorMsg();
        throw RasterError(path + ": cannot open as a raster" + (served ? " (from a server: GeoTIFF/COG, JPEG 2000, PNG, JPEG or WebP only, or a WMS/WMTS URL)" : "") +
                          (why.empty() ? std::string() : " (GDAL: " + why + ")"));
    }
    if (ds->GetRasterCount() < 1) throw RasterError(path + ": has no raster band");
    // GDAL reads and caches a whole block for any pixel of it: a 46 KB file declaring blocks
    // of 16,384 x 16,384 floats took 1 GB a tile and hung the stretch's sampling, per worker.
    {
        int bw = 0, bh = 0;
        GDALRasterBand* band = ds->GetRasterBand(1);
        band->GetBlockSize(&bw, &bh);
        const double block_bytes = double(bw) * double(bh) * GDALGetDataTypeSizeBytes(band->GetRasterDataType());
        if (block_bytes > double(max_block_bytes))
            throw RasterError(path + ": its blocks are " + std::to_string(bw) + " x " + std::to_string(bh) + " px (" +
                              std::to_string(static_cast<long long>(block_bytes / (1 << 20))) + " MB a band), more than " +
                              std::to_string(max_block_bytes >> 20) + " MB: GDAL reads a whole block for any pixel; tile it (gdal_translate -co TILED=YES)");
    }
    if (!ds->GetSpatialRef() && ds->GetGCPCount() == 0) throw RasterError(path + ": has no georeferencing (no CRS)");
    auto expanded = expand_palette(ds.get(), path);
    if (cache.size() >= open_rasters_per_thread)
        cache.erase(std::min_element(cache.begin(), cache.end(), [](const auto& a, const auto& b) { return a.second.used < b.second.used; }));
    return cache.emplace(path, OpenRaster{std::move(ds), std::move(expanded), ++uses}).first->second.get();
}

// The 1-based source bands that give R, G, B: as given, else by the bands' colour
// interpretation. One colour band is gray. Several bands without R, G and B labels
// (a Landsat or Sentinel stack, a MINISBLACK TIFF) are not guessed: the first three
// bands of such a raster are rarely red, green, blue.
std::vector<int> rgb_bands(GDALDataset* ds, const RasterReadOptions& options, const std::string& path) {
    const int n = ds->GetRasterCount();
    if (!options.bands.empty()) {
        if (options.bands.size() != 3 && options.bands.size() != 1)
            throw RasterError(path + ": give 1 band (gray) or 3 bands (R,G,B), not " + std::to_string(options.bands.size()));
        for (int b : options.bands)
            if (b < 1 || b > n) throw RasterError(path + ": band " + std::to_string(b) + " does not exist (the raster has " + std::to_string(n) + ")");
        return options.bands.size() == 1 ? std::vector<int>(3, options.bands[0]) : options.bands;
    }
    int r = 0, g = 0, b = 0;
    std::vector<int> data;
    std::string listed;
    for (int i = 1; i <= n; ++i) {
        GDALRasterBand* band = ds->GetRasterBand(i);
        const auto ci = band->GetColorInterpretation();
        if (ci == GCI_RedBand) r = i;
        else if (ci == GCI_GreenBand) g = i;
        else if (ci == GCI_BlueBand) b = i;
        if (ci != GCI_AlphaBand) data.push_back(i);
        const std::string description = band->GetDescription();
        listed += (i > 1 ? ", " : "") + std::to_string(i) + " " + GDALGetColorInterpretationName(ci) +
                  (description.empty() ? "" : " \"" + description + "\"");
    }
    if (r && g && b) return {r, g, b};
    if (data.size() == 1) return std::vector<int>(3, data[0]); // gray
    if (data.empty()) throw RasterError(path + ": has no colour band (bands: " + listed + ")");
    throw RasterError(path + ": its bands are not labelled red, green and blue (bands: " + listed +
                      "); say which are R, G, B with --bands R,G,B or `bands = [R, G, B]` in the source (e.g. 3,2,1 when bands 1, 2, 3 are blue, green, red, as in Landsat)");
}

} // namespace

std::string rgb_band_problem(const std::string& path, const std::vector<int>& bands) {
    RasterReadOptions options;
    options.bands = bands;
    try {
        rgb_bands(open_raster(path), options, path);
    } catch (const RasterError& e) {
        return e.what();
    }
    return "";
}

namespace {

int alpha_band(GDALDataset* ds) {
    for (int i = 1; i <= ds->GetRasterCount(); ++i)
        if (ds->GetRasterBand(i)->GetColorInterpretation() == GCI_AlphaBand) return i;
    return 0;
}

// GDAL's WMS and WMTS drivers (WMS, TMS, WMTS, TiledWMS, VirtualEarth, ...) return a
// block the server did not send (ZeroBlockHttpCodes such as 404, or a server exception)
// as zeros, indistinguishable from imagery unless the description has an alpha band.
// For such a raster with no alpha, nodata or mask of its own, pixels that are 0 in
// every band are no data: the blocks that were not received.
bool zero_blocks_are_missing(GDALDataset* ds) {
    const auto* driver = ds->GetDriver();
    const std::string name = driver ? driver->GetDescription() : "";
    if (name != "WMS" && name != "WMTS") return false;
    if (alpha_band(ds)) return false;
    GDALRasterBand* band = ds->GetRasterBand(1);
    int has_nodata = 0;
    band->GetNoDataValue(&has_nodata);
    return !has_nodata && band->GetMaskFlags() == GMF_ALL_VALID;
}

double percentile(std::vector<float>& v, double pct) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(std::clamp(pct / 100.0, 0.0, 1.0) * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

// The 2nd-98th percentiles (or the asked ones) of valid samples pooled over the three
// planes: one range for the three bands keeps the colour balance.
std::pair<double, double> percentile_range(const std::vector<const float*>& planes, const std::vector<std::uint8_t>& valid,
                                           std::size_t pixels, const Stretch& stretch) {
    std::vector<float> samples;
    samples.reserve(std::min<std::size_t>(pixels, 200000) * planes.size());
    const std::size_t step = std::max<std::size_t>(1, pixels / 200000);
    for (std::size_t i = 0; i < pixels; i += step)
        if (valid[i])
            for (const auto* p : planes)
                if (std::isfinite(p[i])) samples.push_back(p[i]); // a NaN in nth_element made the range NaN
    const double lo = percentile(samples, stretch.low_percent);
    return {lo, percentile(samples, stretch.high_percent)};
}

} // namespace

void stretch_to_rgb8(const std::vector<const float*>& planes, const std::vector<std::uint8_t>& valid, std::size_t pixels,
                     bool byte_source, const Stretch& stretch, std::vector<std::uint8_t>& rgb) {
    double lo = 0, hi = 255;
    if (stretch.mode == Stretch::Mode::fixed) {
        lo = stretch.min;
        hi = stretch.max;
    } else if (stretch.mode == Stretch::Mode::tile || !byte_source) {
        std::tie(lo, hi) = percentile_range(planes, valid, pixels, stretch);
    }
    const double scale = hi > lo ? 255.0 / (hi - lo) : 0;
    rgb.assign(pixels * 3, 0);
    for (std::size_t i = 0; i < pixels; ++i) {
        if (!valid[i]) continue;
        for (std::size_t c = 0; c < 3; ++c) {
            const double v = (double(planes[c][i]) - lo) * scale;
            rgb[i * 3 + c] = std::isfinite(v) ? static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)) : 0;
        }
    }
}

namespace {

// The raster-wide range of the automatic stretch: percentiles over valid pixels (GDAL's
// mask: nodata, alpha) of the whole raster read at most 1024 px a side, which GDAL takes
// from the nearest overview. A large raster without overviews is sampled instead in
// 32 x 32 windows of 32 px at full resolution, so that at most ~1,000 blocks are read.
std::pair<double, double> compute_raster_range(GDALDataset* ds, const std::string& path, const std::vector<int>& bands,
                                               const Stretch& stretch) {
    constexpr int side = 1024, windows = 32, window_px = 32;
    const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
    GDALRasterBand* first = ds->GetRasterBand(bands[0]);
    const bool sample_windows = first->GetOverviewCount() == 0 && std::max(w, h) > 4 * side;
    struct Window {
        int x, y, w, h, bw, bh;
    };
    std::vector<Window> parts;
    if (sample_windows) {
        for (int j = 0; j < windows; ++j)
            for (int i = 0; i < windows; ++i)
                parts.push_back({static_cast<int>(double(w - window_px) * (i + 0.5) / windows),
                                 static_cast<int>(double(h - window_px) * (j + 0.5) / windows), window_px, window_px, window_px, window_px});
    } else {
        const double shrink = std::max(1.0, double(std::max(w, h)) / side);
        parts.push_back({0, 0, w, h, std::max(1, static_cast<int>(w / shrink)), std::max(1, static_cast<int>(h / shrink))});
    }
    std::vector<std::vector<float>> data(3);
    std::vector<std::uint8_t> valid;
    for (const auto& part : parts) {
        const std::size_t pixels = static_cast<std::size_t>(part.bw) * part.bh, at = valid.size();
        valid.resize(at + pixels, 1);
        for (int c = 0; c < 3; ++c) {
            GDALRasterBand* band = ds->GetRasterBand(bands[c]);
            data[c].resize(at + pixels);
            if (band->RasterIO(GF_Read, part.x, part.y, part.w, part.h, data[c].data() + at, part.bw, part.bh, GDT_Float32, 0, 0) != CE_None)
                throw RasterError(path + ": reading the raster for its stretch failed (GDAL: " + std::string(CPLGetLastErrorMsg()) + ")");
            if (band->GetMaskFlags() == GMF_ALL_VALID) continue;
            std::vector<std::uint8_t> mask(pixels);
            if (band->GetMaskBand()->RasterIO(GF_Read, part.x, part.y, part.w, part.h, mask.data(), part.bw, part.bh, GDT_Byte, 0, 0) != CE_None)
                throw RasterError(path + ": reading the raster's mask for its stretch failed");
            for (std::size_t i = 0; i < pixels; ++i) valid[at + i] = valid[at + i] && mask[i] > 0;
        }
    }
    return percentile_range({data[0].data(), data[1].data(), data[2].data()}, valid, valid.size(), stretch);
}

} // namespace

std::pair<double, double> raster_stretch_range(GDALDataset* dataset, const std::string& name, const std::vector<int>& bands,
                                               const Stretch& stretch) {
    // Process-wide, computed once per raster, bands and percentiles: every tile of a
    // source shares its colours. The once_flag lets threads that ask at the same time
    // wait for one computation.
    struct Entry {
        std::once_flag once;
        std::pair<double, double> range;
    };
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<Entry>> cache;
    std::string key = name + "\n" + std::to_string(stretch.low_percent) + "," + std::to_string(stretch.high_percent);
    for (int b : bands) key.append(",").append(std::to_string(b));
    std::shared_ptr<Entry> entry;
    {
        std::lock_guard lock(mutex);
        auto& slot = cache[key];
        if (!slot) slot = std::make_shared<Entry>();
        entry = slot;
    }
    std::call_once(entry->once, [&] { entry->range = compute_raster_range(dataset, name, bands, stretch); });
    return entry->range;
}

void set_gdal_http_defaults(double timeout_s, double connect_timeout_s, int attempts) {
    // Whole seconds, at least one: GDAL reads these as integers.
    auto whole = [](double s) { return std::to_string(std::max(1L, std::lround(std::ceil(std::min(s, 1e6))))); };
    set_if_unset("GDAL_HTTP_TIMEOUT", whole(timeout_s));
    // A server that answers and then sends nothing: GDAL 3.6's WMS driver takes its request
    // timeout from the XML's <Timeout> alone (300 s, not GDAL_HTTP_TIMEOUT), so a stalled
    // WMS held a tile for 300 s a block, whatever --timeout said; a transfer slower than a
    // byte a second for the HTTP timeout (--timeout, or GDAL_HTTP_TIMEOUT when the environment
    // sets a longer one for a slow server) is given up in every GDAL request.
    set_if_unset("GDAL_HTTP_LOW_SPEED_TIME", CPLGetConfigOption("GDAL_HTTP_TIMEOUT", whole(timeout_s).c_str()));
    set_if_unset("GDAL_HTTP_LOW_SPEED_LIMIT", "1");
    set_if_unset("GDAL_HTTP_CONNECTTIMEOUT", whole(connect_timeout_s));
    set_if_unset("GDAL_HTTP_MAX_RETRY", std::to_string(std::max(0, attempts - 1)));
    set_if_unset("GDAL_HTTP_RETRY_DELAY", "1");
}

std::size_t open_raster_count() { return open_rasters.size(); }

void close_rasters_of_this_thread() { open_rasters.clear(); }

namespace {

// A VRT by its name or, whatever its name (GDAL opens one by its contents), by its head.
bool is_vrt(const std::string& path) {
    if (path.starts_with("<")) return path.starts_with("<VRTDataset");
    if (EQUAL(CPLGetExtension(path.c_str()), "vrt")) return true;
    const auto local = local_file_behind(path);
    struct stat st {};
    if (local.empty() || ::stat(local.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false; // never read a pipe here
    return local_head(path, 1024).find("<VRTDataset") != std::string::npos;
}

void add_sidecars(const std::string& file, std::set<std::string>& files) {
    for (const char* sidecar : {".ovr", ".aux.xml", ".msk"}) {
        VSIStatBufL st;
        if (VSIStatL((file + sidecar).c_str(), &st) == 0) files.insert(file + sidecar);
    }
}

// The files a VRT (a file, or inline XML) names, read from its XML: every SourceFilename
// (simple, complex, averaged and kernel sources, overviews, masks) and a warped VRT's
// SourceDataset, a relativeToVRT one joined to the VRT's folder. GDAL's own list would do
// for local members, but it asks after each member's existence, a request apiece for
// /vsis3/, /vsigs/ or /vsiaz/ ones, and stops at the first level.
std::vector<std::string> vrt_members(const std::string& vrt) {
    const bool inline_xml = vrt.starts_with("<");
    CPLPushErrorHandler(CPLQuietErrorHandler); // not XML: no member here; the read says what is wrong with it
    CPLXMLNode* root = inline_xml ? CPLParseXMLString(vrt.c_str()) : CPLParseXMLFile(vrt.c_str());
    CPLPopErrorHandler();
    std::vector<std::string> names;
    const std::string folder = inline_xml ? "" : CPLGetPath(vrt.c_str());
    auto walk = [&](auto&& self, const CPLXMLNode* node) -> void {
        for (; node; node = node->psNext) {
            if (node->eType != CXT_Element) continue;
            if (EQUAL(node->pszValue, "SourceFilename") || EQUAL(node->pszValue, "SourceDataset")) {
                std::string name = CPLGetXMLValue(node, nullptr, "");
                if (!name.empty() && CPLTestBool(CPLGetXMLValue(node, "relativeToVRT", "0")))
                    name = CPLProjectRelativeFilename(folder.c_str(), name.c_str());
                if (!name.empty()) names.push_back(name);
            }
            self(self, node->psChild);
        }
    };
    walk(walk, root);
    if (root) CPLDestroyXMLNode(root);
    return names;
}

// What GDAL reads for `name`, into `files`: a VRT's own file and sidecars, then its members
// and what they read (nested VRTs followed); another raster's list from GDAL (the file, its
// overviews, masks, .aux.xml, world files), opened quietly: its errors come when it is read.
void add_files_of(const std::string& name, std::set<std::string>& files, std::set<std::string>& listed) {
    if (!listed.insert(name).second) return; // a VRT naming itself, or two naming one
    refuse_special_file(name);
    const auto local = local_file_behind(name);
    if (!local.empty()) files.insert(local);
    if (name.starts_with("<") || is_vrt(name)) {
        if (local == name) add_sidecars(name, files);
        if (local.empty() && !name.starts_with("<")) return; // a remote VRT: nothing here to stamp
        for (const auto& member : vrt_members(name)) {
            refuse_special_file(member); // a /vsisparse/ one, remote or not; a pipe before its head is read
            // GDAL opens a VRT's members itself: a WMTS one with certificate checks off
            // (verified_wmts.hpp). Judged by its contents (one read of its head), whatever its name.
            const auto head = member.starts_with("<") ? member.substr(0, 4096) : local_head(member);
            if (STARTS_WITH_CI(member.c_str(), "WMTS:") || (head.find("Capabilities") != std::string::npos && head.find("opengis.net/wmts") != std::string::npos))
                throw RasterError(name + ": its member " + member + " is a WMTS layer, which GDAL would ask with TLS certificate checks off "
                                                                    "inside a VRT; give the WMTS layer as the source's own path");
            if (head.find("<GDAL_WMS") != std::string::npos || head.find("<GDAL_WMTS") != std::string::npos) warn_if_description_unverified(member);
            const auto member_local = local_file_behind(member);
            if (member_local.empty()) continue; // remote: never asked for here
            if (head.find("<VRTDataset") != std::string::npos || EQUAL(CPLGetExtension(member.c_str()), "vrt")) {
                add_files_of(member, files, listed);
                continue;
            }
            files.insert(member_local);
            if (member_local == member) add_sidecars(member, files); // in an archive, the archive stands for it
        }
        return;
    }
    if (local.empty()) return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    DatasetPtr ds(GDALDataset::Open(name.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
    char** list = ds ? ds->GetFileList() : nullptr;
    CPLPopErrorHandler();
    for (char** f = list; f && *f; ++f)
        if (const auto file = local_file_behind(*f); !file.empty()) files.insert(file);
    CSLDestroy(list);
}

} // namespace

std::string local_file_behind(const std::string& name) {
    if (name.starts_with("<") || name.find("://") != std::string::npos) return "";
    if (!name.starts_with("/vsi")) return name;
    // A part of a file (/vsisubfile/OFFSET_SIZE,FILE) and an encrypted one (/vsicrypt/KEY=VALUE,...,file=FILE): that file.
    if (name.starts_with("/vsisubfile/")) {
        const auto comma = name.find(',');
        return comma == std::string::npos ? "" : local_file_behind(name.substr(comma + 1));
    }
    if (name.starts_with("/vsicrypt/")) {
        const auto file = name.find("file=");
        return file == std::string::npos ? "" : local_file_behind(name.substr(file + 5));
    }
    for (const char* prefix : {"/vsizip/", "/vsitar/", "/vsigzip/", "/vsi7z/", "/vsirar/"}) {
        if (!name.starts_with(prefix)) continue;
        const auto rest = name.substr(std::string_view(prefix).size());
        // Inside another local one (/vsigzip//vsisubfile/...): that one's file; behind /vsicurl/: "".
        if (rest.starts_with("/vsi")) return local_file_behind(rest);
        if (rest.starts_with("{")) {
            const auto close = rest.find('}');
            return close == std::string::npos ? "" : local_file_behind(rest.substr(1, close - 1)); // {/vsis3/...} is remote
        }
        // The archive is the first prefix of the path that is a file: /vsizip/a/b.zip/c/d.tif -> a/b.zip.
        for (auto slash = rest.find('/', 1);; slash = rest.find('/', slash + 1)) {
            const auto candidate = rest.substr(0, slash);
            VSIStatBufL st;
            if (VSIStatL(candidate.c_str(), &st) == 0 && VSI_ISREG(st.st_mode)) return candidate;
            if (slash == std::string::npos) return rest; // none there now: stamped "missing"
        }
    }
    return "";
}

std::vector<std::string> raster_local_files(const std::string& path) {
    register_gdal();
    std::set<std::string> files, listed;
    add_files_of(path, files, listed);
    return {files.begin(), files.end()};
}

namespace {

double normal_longitude(double lon) { return lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon; }

} // namespace

std::optional<LonLatBox> raster_footprint(const double gt[6], double w, double h, OGRCoordinateTransformation& to_lon_lat) {
    // The edges as a ring, corner to corner, 16 points an edge: a projected raster's edges
    // are curves in lon/lat.
    constexpr int steps = 16;
    const std::pair<double, double> corners[5] = {{0, 0}, {w, 0}, {w, h}, {0, h}, {0, 0}};
    std::vector<double> xs, ys;
    for (int edge = 0; edge < 4; ++edge)
        for (int i = 0; i < steps; ++i) {
            const double f = double(i) / steps;
            const double px = corners[edge].first + f * (corners[edge + 1].first - corners[edge].first);
            const double py = corners[edge].second + f * (corners[edge + 1].second - corners[edge].second);
            xs.push_back(gt[0] + px * gt[1] + py * gt[2]);
            ys.push_back(gt[3] + px * gt[4] + py * gt[5]);
        }
    std::vector<int> ok(xs.size(), 0);
    to_lon_lat.Transform(xs.size(), xs.data(), ys.data(), nullptr, ok.data()); // per point in `ok`
    std::vector<std::pair<double, double>> ring; // lon in [-180, 180], lat
    for (std::size_t i = 0; i < xs.size(); ++i)
        if (ok[i] && std::isfinite(xs[i]) && std::isfinite(ys[i])) ring.emplace_back(normal_longitude(xs[i]), std::clamp(ys[i], -90.0, 90.0));
    if (ring.size() < 3) return std::nullopt;
    // Going round the ring, each step the short way round (a step of more than 180 degrees
    // crosses the antimeridian). A winding of 360 degrees is a ring round a pole (a polar
    // stereographic mosaic): every longitude, up to the pole inside the raster. Otherwise the
    // longitudes the steps pass over are arcs of the circle; the box is what the widest gap
    // between them leaves (west > east when that is across 180 degrees, as `coverage` may be),
    // and every longitude when no gap is left (a world raster, even one a hair past 180).
    // Before, the min and max of the edge points made a polar mosaic a band short of its pole,
    // and a raster across 180 degrees the rest of the world (red-team round 31).
    double winding = 0, lat_sum = 0, south = 90, north = -90;
    std::vector<std::pair<double, double>> arcs; // on [-180, 180): start <= end
    const auto add_arc = [&](double from, double step) {
        double a = std::min(from, from + step), b = std::max(from, from + step);
        if (a < -180) { arcs.emplace_back(a + 360, 180), a = -180; }
        if (b > 180) { arcs.emplace_back(-180, b - 360), b = 180; }
        arcs.emplace_back(a, b);
    };
    for (std::size_t i = 0; i < ring.size(); ++i) {
        const auto [lon, lat] = ring[i];
        double step = ring[(i + 1) % ring.size()].first - lon;
        if (step > 180) step -= 360;
        else if (step < -180) step += 360;
        winding += step;
        lat_sum += lat;
        south = std::min(south, lat), north = std::max(north, lat);
        add_arc(lon, step);
    }
    if (std::abs(winding) > 180) { // round a pole: the one inside the raster, else the one on its side of the equator
        bool north_pole = lat_sum > 0;
        if (auto to_raster = std::unique_ptr<OGRCoordinateTransformation>(to_lon_lat.GetInverse())) {
            double inverse[6];
            if (GDALInvGeoTransform(const_cast<double*>(gt), inverse))
                for (const double pole : {90.0, -90.0}) {
                    double x = 0, y = pole;
                    if (!to_raster->Transform(1, &x, &y) || !std::isfinite(x) || !std::isfinite(y)) continue;
                    const double px = inverse[0] + x * inverse[1] + y * inverse[2], py = inverse[3] + x * inverse[4] + y * inverse[5];
                    if (px >= 0 && px <= w && py >= 0 && py <= h) north_pole = pole > 0;
                }
        }
        return north_pole ? LonLatBox{-180, south, 180, 90} : LonLatBox{-180, -90, 180, north};
    }
    if (!(south < north)) return std::nullopt;
    std::sort(arcs.begin(), arcs.end());
    // The widest stretch of longitude no arc covers, round the circle.
    double gap = 0, gap_west = 0, gap_east = 0, reach = arcs.front().second;
    for (std::size_t i = 1; i < arcs.size(); ++i) {
        if (arcs[i].first > reach && arcs[i].first - reach > gap) gap = arcs[i].first - reach, gap_west = reach, gap_east = arcs[i].first;
        reach = std::max(reach, arcs[i].second);
    }
    if (const double round = arcs.front().first + 360 - reach; round > gap) gap = round, gap_west = reach, gap_east = arcs.front().first;
    if (gap <= 1e-9) return LonLatBox{-180, south, 180, north};
    // The box runs from the gap's east end round to its west end.
    const double west = gap_east, east = gap_west;
    if (west < east) return LonLatBox{west, south, east, north};
    return LonLatBox{west >= 180 ? -180 : west, south, east <= -180 ? 180 : east, north}; // across 180 degrees
}

RasterInfo describe_raster(const std::string& path) {
    GDALDataset* ds = open_raster(path);
    RasterInfo info;
    info.bands = ds->GetRasterCount();
    info.data_type = GDALGetDataTypeName(ds->GetRasterBand(1)->GetRasterDataType());
    double gt[6];
    if (ds->GetGeoTransform(gt) == CE_None) {
        info.gsd_m = std::hypot(gt[1], gt[4]);
        if (const auto* srs = ds->GetSpatialRef(); srs && srs->IsGeographic()) info.gsd_m *= 111320.0;
        else if (srs && srs->IsProjected()) info.gsd_m *= srs->GetLinearUnits(); // metres a unit: a State Plane raster's feet had been taken for metres
        OGRSpatialReference wgs84;
        wgs84.SetWellKnownGeogCS("WGS84");
        wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(ds->GetSpatialRef(), &wgs84));
        const double w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
        if (ct)
            if (const auto box = raster_footprint(gt, w, h, *ct)) info.coverage = *box;
        // A Mercator raster's units are metres on its cylinder, 1/cos(latitude) of the ground's
        // (EPSG:3857's 0.69 m pixels are 0.50 m at Monaco): its GSD is measured on the ground,
        // between the centre pixel and its neighbours, the coarser way (as for lon/lat rasters).
        const auto* srs = ds->GetSpatialRef();
        const char* projection = srs && srs->IsProjected() ? srs->GetAttrValue("PROJECTION") : nullptr;
        if (ct && projection && (EQUAL(projection, "Mercator_1SP") || EQUAL(projection, "Mercator_2SP"))) {
            double px[3] = {w / 2, w / 2 + 1, w / 2}, py[3] = {h / 2, h / 2, h / 2 + 1}, x[3], y[3];
            for (int i = 0; i < 3; ++i) x[i] = gt[0] + px[i] * gt[1] + py[i] * gt[2], y[i] = gt[3] + px[i] * gt[4] + py[i] * gt[5];
            int fine[3] = {0, 0, 0};
            ct->Transform(3, x, y, nullptr, fine);
            if (fine[0] && fine[1] && fine[2]) {
                constexpr double radius = 6378137.0, rad = 3.14159265358979323846 / 180;
                const auto ground = [&](int i) {
                    const double dx = (x[i] - x[0]) * rad * radius * std::cos(y[0] * rad), dy = (y[i] - y[0]) * rad * radius;
                    return std::hypot(dx, dy);
                };
                if (const double g = std::max(ground(1), ground(2)); std::isfinite(g) && g > 0) info.gsd_m = g;
            }
        }
    }
    return info;
}

RgbImage read_raster_tile(const std::string& path, const TileGrid& grid, const RasterReadOptions& options) {
    return read_dataset_tile(open_raster(path), path, grid, options);
}

namespace {

// The grid's CRS from PROJ's database, checked once per thread and zone: a database PROJ
// cannot read (PROJ_DATA naming no folder of it, no file descriptor or memory left) is the
// machine's state, not the tile's. GDALWarp would fail each tile for good as "bad warp
// options"; ProjError stops the fetch and leaves the jobs planned.
void require_grid_crs(int epsg) {
    thread_local std::set<int> known;
    if (known.contains(epsg)) return;
    OGRSpatialReference srs;
    CPLErrorReset();
    if (srs.importFromEPSG(epsg) != OGRERR_NONE)
        throw ProjError("PROJ cannot read EPSG:" + std::to_string(epsg) + " from its database (GDAL: " + std::string(CPLGetLastErrorMsg()) +
                        "; is PROJ_DATA right, and are file descriptors (ulimit -n) and memory left?)");
    known.insert(epsg);
}

} // namespace

RgbImage read_dataset_tile(GDALDataset* src, const std::string& path, const TileGrid& grid, const RasterReadOptions& options) {
    require_grid_crs(grid.epsg);
    const auto bands = rgb_bands(src, options, path);
    const int src_alpha = alpha_band(src);
    const bool byte_source = src->GetRasterBand(bands[0])->GetRasterDataType() == GDT_Byte;

    // Byte data that needs no stretch is warped as Byte: GDAL's specialised kernels
    // apply and the result is read straight into interleaved RGB.
    const bool byte_path = byte_source && (options.stretch.mode == Stretch::Mode::automatic ||
                                           (options.stretch.min == 0 && options.stretch.max == 255));
    const double x0 = grid.geotransform[0], y1 = grid.geotransform[3];
    const double x1 = x0 + grid.width * grid.gsd, y0 = y1 - grid.height * grid.gsd;
    std::vector<std::string> args{"-of", "MEM", "-t_srs", grid.crs(), "-te", std::to_string(x0), std::to_string(y0),
                                  std::to_string(x1), std::to_string(y1), "-ts", std::to_string(grid.width),
                                  std::to_string(grid.height), "-r", options.resampling, "-ot", byte_path ? "Byte" : "Float32",
                                  "-dstalpha", "-wo", "NUM_THREADS=1", "-q"};
    const bool zero_blocks = zero_blocks_are_missing(src);
    if (zero_blocks) args.insert(args.end(), {"-srcnodata", "0", "-wo", "UNIFIED_SRC_NODATA=YES"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::unique_ptr<GDALWarpAppOptions, decltype(&GDALWarpAppOptionsFree)> wopts(GDALWarpAppOptionsNew(argv.data(), nullptr),
                                                                                 GDALWarpAppOptionsFree);
    if (!wopts) throw RasterError(path + ": bad warp options (resampling `" + options.resampling + "`?)");
    GDALDatasetH src_h = GDALDataset::ToHandle(src);
    int usage_error = 0;
    CPLErrorReset();
    DatasetPtr out(GDALDataset::FromHandle(GDALWarp("", nullptr, 1, &src_h, wopts.get(), &usage_error)));
    if (!out) throw RasterError(path + ": warping failed (GDAL: " + std::string(CPLGetLastErrorMsg()) + ")");

    // Output bands: the source bands except its alpha, in order, then the destination alpha.
    auto out_index = [&](int src_band) { return src_alpha && src_band > src_alpha ? src_band - 1 : src_band; };
    const int alpha_out = out->GetRasterCount();
    const std::size_t pixels = static_cast<std::size_t>(grid.width) * grid.height;
    RgbImage img;
    img.width = grid.width;
    img.height = grid.height;
    img.valid.resize(pixels);
    if (out->GetRasterBand(alpha_out)->RasterIO(GF_Read, 0, 0, grid.width, grid.height, img.valid.data(), grid.width,
                                                grid.height, GDT_Byte, 0, 0) != CE_None)
        throw RasterError(path + ": reading the warped tile failed");
    for (auto& v : img.valid) v = v > 0;
    if (zero_blocks && std::none_of(img.valid.begin(), img.valid.end(), [](std::uint8_t v) { return v; }))
        throw RasterError(path + ": no data in this tile: the server sent no imagery for it (GDAL's " +
                          std::string(src->GetDriver()->GetDescription()) + " driver gives blocks it did not receive, e.g. HTTP 404, as zeros)");

    if (byte_path) {
        int map[3] = {out_index(bands[0]), out_index(bands[1]), out_index(bands[2])};
        img.rgb.resize(pixels * 3);
        if (out->RasterIO(GF_Read, 0, 0, grid.width, grid.height, img.rgb.data(), grid.width, grid.height, GDT_Byte, 3, map, 3,
                          3L * grid.width, 1) != CE_None)
            throw RasterError(path + ": reading the warped tile failed");
        for (std::size_t i = 0; i < pixels; ++i)
            if (!img.valid[i]) img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = 0;
        return img;
    }
    std::vector<std::vector<float>> data(3, std::vector<float>(pixels));
    for (int c = 0; c < 3; ++c) {
        if (c > 0 && bands[c] == bands[c - 1]) {
            data[c] = data[c - 1];
            continue;
        }
        if (out->GetRasterBand(out_index(bands[c]))->RasterIO(GF_Read, 0, 0, grid.width, grid.height, data[c].data(), grid.width,
                                                              grid.height, GDT_Float32, 0, 0) != CE_None)
            throw RasterError(path + ": reading the warped tile failed");
    }
    // A float raster's NaN (its fill where it declares no nodata) is no data: counted so, for
    // --min-valid and fallback, not stretched into black pixels of a tile "100% with data".
    for (std::size_t i = 0; i < pixels; ++i)
        if (img.valid[i] && !(std::isfinite(data[0][i]) && std::isfinite(data[1][i]) && std::isfinite(data[2][i]))) img.valid[i] = 0;
    Stretch stretch = options.stretch;
    if (stretch.mode == Stretch::Mode::automatic && !byte_source) {
        std::tie(stretch.min, stretch.max) = raster_stretch_range(src, path, bands, stretch);
        stretch.mode = Stretch::Mode::fixed;
    }
    stretch_to_rgb8({data[0].data(), data[1].data(), data[2].data()}, img.valid, pixels, byte_source, stretch, img.rgb);
    return img;
}

void write_geotiff(const std::string& path, const RgbImage& image, const TileGrid& grid) {
    register_gdal();
    auto* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
    const char* create_opts[] = {"COMPRESS=DEFLATE", "PHOTOMETRIC=RGB", nullptr};
    DatasetPtr ds(driver->Create(path.c_str(), image.width, image.height, 3, GDT_Byte, const_cast<char**>(create_opts)));
    if (!ds) throw RasterError(path + ": cannot create (GDAL: " + std::string(CPLGetLastErrorMsg()) + ")");
    double gt[6];
    std::copy(std::begin(grid.geotransform), std::end(grid.geotransform), gt);
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(grid.epsg);
    ds->SetSpatialRef(&srs);
    int band_map[3] = {1, 2, 3};
    if (ds->RasterIO(GF_Write, 0, 0, image.width, image.height, const_cast<std::uint8_t*>(image.rgb.data()), image.width,
                     image.height, GDT_Byte, 3, band_map, 3, 3L * image.width, 1) != CE_None)
        throw RasterError(path + ": write failed");
}

} // namespace skyscript::imagery
