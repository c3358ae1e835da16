#pragma once
// One catalog object as osm/ hands it to whoever stores it (pipeline/ writes the GeoPackage).

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::osm {

struct Box {
    double min_lon = 0, min_lat = 0, max_lon = 0, max_lat = 0;
    bool intersects(const Box& o) const noexcept {
        return min_lon <= o.max_lon && o.min_lon <= max_lon && min_lat <= o.max_lat && o.min_lat <= max_lat;
    }
    bool contains(const Box& o) const noexcept {
        return min_lon <= o.min_lon && o.max_lon <= max_lon && min_lat <= o.min_lat && o.max_lat <= max_lat;
    }
};

struct CatalogRow {
    char osm_type = 'n';      // n node, w way, r relation
    std::int64_t osm_id = 0;
    char kind = 'n';          // n point, w line (open or linear closed way), a area
    std::string tags_json;    // {"key":"value",...}: groundable tags only
    std::string focus_tag;    // key=value of the feature tag that decides max_gsd
    double max_gsd = 0;       // coarsest GSD (m) at which the object is visible
    double area_m2 = 0;       // areas only
    double length_m = 0;      // lines only
    double rep_lon = 0, rep_lat = 0; // a point on (lines) or inside (areas) the object
    Box bbox;
    std::string wkb;          // ISO WKB, little endian, EPSG:4326 lon/lat
};

// Receives rows in batches; called from the reading thread.
class RowSink {
public:
    virtual ~RowSink() = default;
    virtual void consume(std::vector<CatalogRow>&& batch) = 0;
};

} // namespace skyscript::osm
