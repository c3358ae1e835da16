#include "region.hpp"

#include "cli_args.hpp"

#include <ogrsf_frmts.h>

#include <memory>
#include <sstream>

namespace skyscript::pipeline {

osm::Box parse_bbox(const std::string& text) {
    std::vector<double> v;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) v.push_back(parse_double(part, "--bbox"));
    if (v.size() != 4) throw UsageError("--bbox: expected W,S,E,N (4 numbers), got `" + text + "`");
    const osm::Box b{v[0], v[1], v[2], v[3]};
    if (b.min_lon < -180 || b.max_lon > 180 || b.min_lat < -90 || b.max_lat > 90)
        throw UsageError("--bbox: `" + text + "` is out of range (longitude -180..180, latitude -90..90)");
    if (b.min_lon >= b.max_lon || b.min_lat >= b.max_lat)
        throw UsageError("--bbox: `" + text + "` is empty: W must be less than E and S less than N");
    return b;
}

namespace {

void add_polygon(const OGRPolygon& poly, std::vector<std::vector<osm::Point>>& rings) {
    auto add_ring = [&](const OGRLinearRing* r) {
        if (!r) return;
        std::vector<osm::Point> ring;
        for (int i = 0; i < r->getNumPoints(); ++i) ring.push_back({r->getX(i), r->getY(i)});
        rings.push_back(std::move(ring));
    };
    add_ring(poly.getExteriorRing());
    for (int i = 0; i < poly.getNumInteriorRings(); ++i) add_ring(poly.getInteriorRing(i));
}

} // namespace

osm::SpatialFilter load_polygon_region(const std::string& path) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(
        GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
    if (!ds) throw std::runtime_error(path + ": cannot open as a polygon file (GeoJSON expected): " + CPLGetLastErrorMsg());
    std::vector<std::vector<osm::Point>> rings;
    OGRSpatialReference wgs84;
    wgs84.SetWellKnownGeogCS("WGS84");
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    for (auto* layer : ds->GetLayers()) {
        std::unique_ptr<OGRCoordinateTransformation> to_wgs84;
        if (const auto* srs = layer->GetSpatialRef(); srs && !srs->IsSame(&wgs84))
            to_wgs84.reset(OGRCreateCoordinateTransformation(srs, &wgs84));
        for (auto& feature : *layer) {
            OGRGeometry* g = feature->GetGeometryRef();
            if (!g) continue;
            if (to_wgs84) g->transform(to_wgs84.get());
            const auto type = wkbFlatten(g->getGeometryType());
            if (type == wkbPolygon) add_polygon(*g->toPolygon(), rings);
            else if (type == wkbMultiPolygon)
                for (const auto* p : *g->toMultiPolygon()) add_polygon(*p, rings);
        }
    }
    if (rings.empty()) throw std::runtime_error(path + ": no Polygon or MultiPolygon geometry in the file");
    return osm::SpatialFilter(std::move(rings));
}

} // namespace skyscript::pipeline
