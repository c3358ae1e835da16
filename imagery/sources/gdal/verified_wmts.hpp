#pragma once
// GDAL 3.6's WMTS driver writes <UnsafeSSL>true</UnsafeSSL> into the description it builds from
// a `WMTS:URL[,layer=...]` name or from a capabilities document (frmts/wmts/wmtsdataset.cpp):
// every tile, and a WMTS: name's capabilities, were asked with TLS certificate checks off while
// /vsicurl/, WMS and every other source verified them. A WMTS source is opened instead through a
// <GDAL_WMTS> description that leaves UnsafeSSL out, with the driver's other defaults: its
// requests are verified unless GDAL_HTTP_UNSAFESSL says otherwise, which is warned of.

#include <optional>
#include <string>

namespace skyscript::imagery {

// The first `bytes` of a file GDAL would read at `path` here: a local file, or one in a local
// archive or part of a file (through GDAL's file systems); "" for a server's file, a URL or an
// inline description. What tells a description (a VRT, a WMS/WMTS one, a capabilities document)
// by its contents, whatever its name.
std::string local_head(const std::string& path, std::size_t bytes = 4096);

// The <GDAL_WMTS> description of a `WMTS:` name (case as GDAL takes it: any), its parameters
// (layer, tilematrixset, tilematrix, zoom_level, style, extendbeyonddateline) as elements;
// nullopt when `name` is no WMTS: name. Throws RasterError on a parameter GDAL does not know.
std::optional<std::string> wmts_description_of_name(const std::string& name);

// The <GDAL_WMTS> description of the capabilities document GDAL's WMTS driver opened at `path`
// (a URL or a local file).
std::string wmts_description_of_capabilities(const std::string& path);

// Whether `path` is a GDAL_WMTS description already (inline, or a local file, also in a local
// archive, whose head has its root element): opened as it is, its own UnsafeSSL setting the user's.
bool is_wmts_description(const std::string& path);

// Whether a user's own description (inline <GDAL_WMS>/<GDAL_WMTS>, or a local file holding
// one) sets UnsafeSSL true, as `gdal_translate -of WMS` and GDAL's documented examples write it.
bool description_sets_unsafe_ssl(const std::string& path);

} // namespace skyscript::imagery
