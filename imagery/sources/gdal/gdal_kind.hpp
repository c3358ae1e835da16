#pragma once
// The `gdal` source kind: any raster GDAL opens (gdal_source.hpp), named by `path`;
// bands are 1-based band numbers, and the raster tells its own GSD and footprint.

#include "imagery/source_kind.hpp"

#include <string>

namespace skyscript::imagery {

struct GdalSettings : SourceSettings {
    std::string path; // a file, /vsicurl/ URL, VRT or WMS/WMTS XML
};

const SourceKind& gdal_kind();

// One raster as a source of its own ("RASTER"), for fetch-one --raster.
SourceConfig gdal_raster_source(const std::string& path);

} // namespace skyscript::imagery
