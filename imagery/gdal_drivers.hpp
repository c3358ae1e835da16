#pragma once
// GDAL's drivers, registered once for the process, with the one guard GDAL 3.6 lacks: a tile
// GDAL's WMS driver downloads itself (for a WMS, WMTS or TMS source, written to
// /vsimem/wms/...) is opened with any driver, so a server answering a tile with a VRT, an MRF
// or a GDAL_WMS description had GDAL read the local files or call the hosts it names, and the
// dataset held their bytes as pixels (GDAL's WCS driver does the same with a coverage, under
// /vsimem/wcs/..., its HTTP driver with a file under /vsimem/http_...). So does a file on a
// server anywhere in the path: a served VRT inside /vsizip//vsicurl/..., or the /vsicurl/
// member of a local VRT. Every driver but the image formats (GTiff, PNG, JPEG, WEBP, GIF,
// JP2OpenJPEG) declines such a path, and a bare URL is left to WMS and WMTS. GDAL 3.6 has no option for this (3.12's
// GDAL_VRT_ENABLE_RAWRASTERBAND covers one case): each driver's open function is wrapped
// once, before any thread opens a raster. The WMS disk cache is off, so no tile is reopened
// from a cache path (and none is written under the working folder, WMTS's default).

#include <string_view>

namespace skyscript::imagery {

// Whether a GDAL path reads from a server through a network file system (/vsicurl/, /vsis3/,
// ...), wherever in the path: /vsizip//vsicurl/... is a server's archive.
bool behind_network_file_system(std::string_view path) noexcept;

// Whether `text` starts with `scheme` ("http://"), in any case (curl and GDAL take HTTP:// too).
bool has_url_scheme(std::string_view text, std::string_view scheme) noexcept;

// GDALAllRegister and the guard, once (thread-safe; call before opening anything with GDAL).
void register_gdal_drivers();

} // namespace skyscript::imagery
