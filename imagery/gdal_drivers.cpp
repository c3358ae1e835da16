#include "imagery/gdal_drivers.hpp"

#include <cpl_conv.h>
#include <gdal_priv.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>
#include <strings.h>
#include <utility>

namespace skyscript::imagery {

namespace {

using OpenFn = GDALDataset* (*)(GDALOpenInfo*);

// Whether a file is a server's, which no driver but the image formats may open (and a bare
// URL, which only a service driver may: WMS, WMTS):
// - where GDAL's WMS driver puts a downloaded tile before opening it (BufferToVSIFile), its WCS
//   driver a downloaded coverage, its HTTP driver a downloaded file;
// - a file behind a network file system, wherever in the path: /vsizip//vsicurl/..., a VRT's
//   member /vsicurl/... (a local VRT mosaic of COGs): a served VRT in an archive, or named by
//   a VRT, read local files into the images.
bool served_file(const GDALOpenInfo* info, bool service_driver) {
    if (!info || !info->pszFilename) return false;
    const std::string_view name = info->pszFilename;
    for (const char* downloaded : {"/vsimem/wms/", "/vsimem/wcs/", "/vsimem/http_"})
        if (name.starts_with(downloaded)) return true;
    if (behind_network_file_system(name)) return true;
    if (service_driver) return false;
    for (const char* url : {"http://", "https://", "ftp://"})
        if (has_url_scheme(name, url)) return true;
    return false;
}

bool service_driver(const char* name) { return std::strcmp(name, "WMS") == 0 || std::strcmp(name, "WMTS") == 0; }

// pfnOpen has no driver argument: one trampoline per slot, each calling its driver's own open
// function (written once, before any thread opens a raster; read-only after).
constexpr std::size_t slots = 1024;
std::array<OpenFn, slots> original_open{};
std::array<bool, slots> opens_services{}; // the slot's driver is WMS or WMTS

template <std::size_t N>
GDALDataset* guarded_open(GDALOpenInfo* info) {
    if (served_file(info, opens_services[N])) return nullptr; // declined without an error, so GDAL tries the next driver
    return original_open[N](info);
}

template <std::size_t... N>
constexpr std::array<OpenFn, sizeof...(N)> make_trampolines(std::index_sequence<N...>) {
    return {&guarded_open<N>...};
}
constexpr auto trampolines = make_trampolines(std::make_index_sequence<slots>{});

// Drivers that open with their driver as argument (Python plugin drivers): one trampoline
// finds each one's own function by its driver.
using OpenWithDriverFn = GDALDataset* (*)(GDALDriver*, GDALOpenInfo*);
std::array<std::pair<GDALDriver*, OpenWithDriverFn>, slots> original_open_with_driver{};
std::size_t with_driver_used = 0;

GDALDataset* guarded_open_with_driver(GDALDriver* driver, GDALOpenInfo* info) {
    if (served_file(info, service_driver(driver->GetDescription()))) return nullptr;
    for (std::size_t i = 0; i < with_driver_used; ++i)
        if (original_open_with_driver[i].first == driver) return original_open_with_driver[i].second(driver, info);
    return nullptr;
}

bool image_driver(const char* name) {
    for (const char* ok : {"GTiff", "PNG", "JPEG", "WEBP", "GIF", "JP2OpenJPEG"})
        if (std::strcmp(name, ok) == 0) return true;
    return false;
}

} // namespace

bool behind_network_file_system(std::string_view path) noexcept {
    for (const char* network : {"/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsiadls", "/vsioss", "/vsiswift", "/vsiwebhdfs", "/vsihdfs"})
        if (path.find(network) != std::string_view::npos) return true;
    return false;
}

bool has_url_scheme(std::string_view text, std::string_view scheme) noexcept {
    return text.size() >= scheme.size() && strncasecmp(text.data(), scheme.data(), scheme.size()) == 0;
}

void register_gdal_drivers() {
    static std::once_flag once;
    std::call_once(once, [] {
        GDALAllRegister();
        CPLSetConfigOption("GDAL_ENABLE_WMS_CACHE", "NO");
        auto* manager = GetGDALDriverManager();
        std::size_t used = 0;
        for (int i = 0; i < manager->GetDriverCount(); ++i) {
            GDALDriver* d = manager->GetDriver(i);
            if (!d || image_driver(d->GetDescription())) continue;
            if (d->pfnOpenWithDriverArg && with_driver_used < slots) {
                original_open_with_driver[with_driver_used++] = {d, d->pfnOpenWithDriverArg};
                d->pfnOpenWithDriverArg = guarded_open_with_driver;
            }
            if (!d->pfnOpen) continue;
            if (used == slots) { // a GDAL of far more drivers than 3.6's ~220: say which are not guarded
                std::fprintf(stderr, "skyscript-build: warning: GDAL driver %s opens WMS tiles unguarded (more than %zu drivers)\n", d->GetDescription(), slots);
                continue;
            }
            original_open[used] = d->pfnOpen;
            opens_services[used] = service_driver(d->GetDescription());
            d->pfnOpen = trampolines[used];
            ++used;
        }
    });
}

} // namespace skyscript::imagery
