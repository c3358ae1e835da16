#include "imagery/sources/gdal/verified_wmts.hpp"

#include "imagery/sources/gdal/gdal_source.hpp"

#include <cpl_conv.h>
#include <cpl_minixml.h>
#include <cpl_string.h>
#include <cpl_vsi.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace skyscript::imagery {

namespace {

std::string xml_text(const std::string& s) {
    char* escaped = CPLEscapeString(s.c_str(), static_cast<int>(s.size()), CPLES_XML);
    std::string out = escaped ? escaped : "";
    CPLFree(escaped);
    return out;
}

// The driver's own defaults (wmtsdataset.cpp) but UnsafeSSL. No <Cache/>: GDAL_ENABLE_WMS_CACHE
// is off for every source (gdal_drivers.cpp).
std::string description(const std::string& capabilities, const std::vector<std::pair<std::string, std::string>>& elements) {
    std::string xml = "<GDAL_WMTS><GetCapabilitiesUrl>" + xml_text(capabilities) + "</GetCapabilitiesUrl>";
    for (const auto& [element, value] : elements) xml.append("<" + element + ">" + xml_text(value) + "</" + element + ">");
    xml += "<ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes><ZeroBlockOnServerException>true</ZeroBlockOnServerException></GDAL_WMTS>";
    return xml;
}

struct XmlCloser {
    void operator()(CPLXMLNode* n) const { CPLDestroyXMLNode(n); }
};

} // namespace

// Through GDAL's file systems (a member of a local archive too); a server's file is never read
// here: a served description is never taken as the user's.
std::string local_head(const std::string& path, std::size_t bytes) {
    if (path.starts_with("<") || local_file_behind(path).empty()) return "";
    VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
    if (!f) return "";
    std::string head(bytes, '\0');
    head.resize(VSIFReadL(head.data(), 1, head.size(), f));
    VSIFCloseL(f);
    return head;
}

std::optional<std::string> wmts_description_of_name(const std::string& name) {
    if (!STARTS_WITH_CI(name.c_str(), "WMTS:")) return std::nullopt;
    // As GDAL splits it: commas, a quoted part kept whole.
    const CPLStringList tokens(CSLTokenizeString2(name.c_str() + 5, ",", CSLT_HONOURSTRINGS));
    if (tokens.Count() < 1 || !*tokens[0]) throw RasterError(name + ": a WMTS: name needs the capabilities URL after `WMTS:`");
    std::map<std::string, std::string> elements; // a key given twice: the last, as GDAL takes it
    for (int i = 1; i < tokens.Count(); ++i) {
        char* key = nullptr;
        const char* value = CPLParseNameValue(tokens[i], &key);
        const std::unique_ptr<char, decltype(&CPLFree)> owned(key, &CPLFree);
        const std::string k = key ? key : "";
        std::string element;
        if (EQUAL(k.c_str(), "layer")) element = "Layer";
        else if (EQUAL(k.c_str(), "tilematrixset")) element = "TileMatrixSet";
        else if (EQUAL(k.c_str(), "tilematrix")) element = "TileMatrix";
        else if (EQUAL(k.c_str(), "zoom_level") || EQUAL(k.c_str(), "zoomlevel")) element = "ZoomLevel";
        else if (EQUAL(k.c_str(), "style")) element = "Style";
        else if (EQUAL(k.c_str(), "extendbeyonddateline")) element = "ExtendBeyondDateLine";
        if (element.empty() || !value)
            throw RasterError(name + ": `" + tokens[i] + "` is no parameter of a WMTS: name (layer, tilematrixset, tilematrix, zoom_level, style, extendbeyonddateline)");
        elements[element] = element == "ExtendBeyondDateLine" ? (CPLTestBool(value) ? "true" : "false") : value;
    }
    return description(tokens[0], {elements.begin(), elements.end()});
}

std::string wmts_description_of_capabilities(const std::string& path) { return description(path, {}); }

bool is_wmts_description(const std::string& path) {
    if (STARTS_WITH_CI(path.c_str(), "<GDAL_WMTS")) return true;
    return local_head(path).find("<GDAL_WMTS") != std::string::npos;
}

bool description_sets_unsafe_ssl(const std::string& path) {
    std::string text = path.starts_with("<") ? path : local_head(path);
    if (text.find("<GDAL_WMS") == std::string::npos && text.find("<GDAL_WMTS") == std::string::npos) return false;
    if (!path.starts_with("<")) text = local_head(path, std::size_t{1} << 20);
    if (text.find("UnsafeSSL") == std::string::npos) return false;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const std::unique_ptr<CPLXMLNode, XmlCloser> xml(CPLParseXMLString(text.c_str()));
    CPLPopErrorHandler();
    if (!xml) return false;
    for (const char* root : {"=GDAL_WMS", "=GDAL_WMTS"})
        if (const CPLXMLNode* node = CPLGetXMLNode(xml.get(), root)) return CPLTestBool(CPLGetXMLValue(node, "UnsafeSSL", "false"));
    return false;
}

} // namespace skyscript::imagery
