#pragma once
// Read-only access to OUT/catalog.gpkg for the stages after extract: its metadata, every
// object's row with its tags (the planner's in-memory index is built from it), and a
// line's vertices. The catalog is never written after extract:
// its R*Tree triggers call GeoPackage SQL functions plain SQLite lacks.

#include "osm/catalog_row.hpp"
#include "osm/shape.hpp"
#include "pipeline/common/sqlite_db.hpp"

#include <functional>
#include <map>
#include <span>
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
    std::string tags;           // JSON object of the groundable tags
};

// An object's box in the R*Tree.
struct FidBox {
    std::int64_t fid;
    osm::Box box;
};

class CatalogReader {
public:
    explicit CatalogReader(const std::string& path);

    const std::string& path() const noexcept { return db_.path(); }
    std::map<std::string, std::string> meta();
    // Every object that has a box in the R*Tree (one without is not planned) with its tags (no
    // geometry), in fid order.
    void for_each_with_tags(const std::function<void(const CatalogObject&)>& fn);
    // The R*Tree's boxes, in fid order: the objects for_each_with_tags reads. A run of them is a
    // part another connection may read (below).
    std::vector<FidBox> boxes_by_fid();
    // The objects of `boxes` (a run of boxes_by_fid()) with their tags, in fid order.
    void for_each_with_tags(std::span<const FidBox> boxes, const std::function<void(const CatalogObject&)>& fn);
    // The focus candidates of a catalog sampled as it was read (table sample_focus), ascending;
    // empty for a full catalog.
    std::vector<std::int64_t> sample_focus();
    // Line vertices (lon/lat) of a line object; empty for other kinds.
    std::vector<osm::Point> line_vertices(std::int64_t fid);
    // The object's geometry as ISO WKB (lon/lat; Point, LineString or MultiPolygon), without
    // the GeoPackage header; empty when the object has none or its blob is not one.
    std::string geometry_wkb(std::int64_t fid);
    // The same, seen where SQLite holds it (no copy): `fn` gets it, empty as above, and must
    // not keep the view.
    void with_geometry_wkb(std::int64_t fid, const std::function<void(std::string_view)>& fn);

private:
    SqliteDb db_;
    SqliteStatement geom_;
};

} // namespace skyscript::pipeline
