#pragma once
// Read-only access to OUT/catalog.gpkg for the stages after extract: the candidates
// (a light row per object), one object's full row, and the objects whose boxes meet a
// lon/lat box (the GeoPackage's R*Tree). The catalog is never written after extract:
// its R*Tree triggers call GeoPackage SQL functions plain SQLite lacks.

#include "catalog_row.hpp"
#include "shape.hpp"
#include "sqlite_db.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct CatalogObject {
    std::int64_t fid = 0;
    char osm_type = 'n', kind = 'n';
    std::int64_t osm_id = 0;
    std::string focus_tag;
    double max_gsd = 0;
    double rep_lon = 0, rep_lat = 0;
    double area_m2 = 0, length_m = 0;
    osm::Box bbox;              // from the R*Tree (float, rounded outwards)
    std::string tags;           // JSON object (only with_tags / object())
};

class CatalogReader {
public:
    explicit CatalogReader(const std::string& path);

    std::map<std::string, std::string> meta();
    std::int64_t count();
    // Every object, light (no tags, no geometry), in fid order.
    void for_each(const std::function<void(const CatalogObject&)>& fn);
    void for_each_with_tags(const std::function<void(const CatalogObject&)>& fn);
    CatalogObject object(std::int64_t fid);
    // Line vertices (lon/lat) of a line object; empty for other kinds.
    std::vector<osm::Point> line_vertices(std::int64_t fid);
    // Objects (with tags) whose box intersects `box`.
    void intersecting(const osm::Box& box, const std::function<void(const CatalogObject&)>& fn);

private:
    SqliteDb db_;
    SqliteStatement by_fid_, geom_, window_;
};

} // namespace skyscript::pipeline
