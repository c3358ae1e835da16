#pragma once
// One catalog object as osm/ hands it to whoever stores it (pipeline/ writes the GeoPackage).

#include <algorithm>
#include <cstdint>
#include <span>
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
    // Grows to hold `o` too.
    void add(const Box& o) noexcept {
        min_lon = std::min(min_lon, o.min_lon), min_lat = std::min(min_lat, o.min_lat);
        max_lon = std::max(max_lon, o.max_lon), max_lat = std::max(max_lat, o.max_lat);
    }
};

struct Point {
    double lon, lat;
    bool operator==(const Point&) const = default;
};

struct CatalogRow {
    // 1, 2, ...: the row's place among all the rows the input yields, so a run that keeps
    // only some rows (RowSink::wants) gives each the fid it has in the full catalog.
    std::int64_t fid = 0;
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
    // The row as its sink stores it, made by RowSink::prepare on a worker (the catalog's:
    // its SQLite record; wkb, tags_json and focus_tag are then emptied); empty when not made.
    std::string stored;
};

// Receives rows in batches; called from the reading thread, but for prepare().
class RowSink {
public:
    virtual ~RowSink() = default;
    // Called for each row on the worker thread that made it, before the row is in order (any
    // order, several threads at once): turns it into what the sink stores, work that would
    // otherwise fall to a single thread. Must not touch the sink's state. Runs before
    // wants(), which then sees what it left (a SampleFilter before the catalog reads neither
    // the tags nor the WKB).
    virtual void prepare(CatalogRow& row) const { (void)row; }
    // Asked of every row before its costly parts are made: `head` has all but area_m2,
    // length_m and wkb; `vertices` are the shape's points (a line's, in order). A row not
    // wanted is dropped (it still takes its fid).
    virtual bool wants(const CatalogRow& head, std::span<const Point> vertices) {
        (void)head, (void)vertices;
        return true;
    }
    virtual void consume(std::vector<CatalogRow>&& batch) = 0;
    // A vector for the next batch: one the sink is done with, emptied, its memory kept (the
    // reading thread page-faulted a fresh 2 MB batch each time), or a new one.
    virtual std::vector<CatalogRow> spare_batch() { return {}; }
};

} // namespace skyscript::osm
