#include "pipeline/catalog/catalog_reader.hpp"


#include <cstring>

namespace skyscript::pipeline {

namespace {

constexpr const char* light_columns = "o.fid, o.osm_type, o.osm_id, o.kind, o.focus_tag, o.max_gsd, o.rep_lon, o.rep_lat, "
                                      "coalesce(o.area_m2, 0), coalesce(o.length_m, 0), r.minx, r.miny, r.maxx, r.maxy";

void read_light(const SqliteStatement& q, CatalogObject& o) {
    o.fid = q.column_int(0);
    o.osm_type = q.column_text(1)[0];
    o.osm_id = q.column_int(2);
    o.kind = q.column_text(3)[0];
    o.focus_tag = q.column_text(4);
    o.max_gsd = q.column_double(5);
    o.rep_lon = q.column_double(6);
    o.rep_lat = q.column_double(7);
    o.area_m2 = q.column_double(8);
    o.length_m = q.column_double(9);
    o.bbox = {q.column_double(10), q.column_double(11), q.column_double(12), q.column_double(13)};
}

std::string select(const char* extra, const char* where) {
    return std::string("SELECT ") + light_columns + extra + " FROM objects o JOIN rtree_objects_geom r ON r.id = o.fid " + where;
}

} // namespace

CatalogReader::CatalogReader(const std::string& path)
    : db_(path, SQLITE_OPEN_READONLY),
      geom_(db_.handle(), "SELECT geom FROM objects WHERE fid = ?", db_.path()) {
    // One read transaction for the reader's life: the plan reads a geometry for every object
    // that crosses a tile's edge, and each statement outside a transaction would take and
    // drop the file's shared lock and look for a hot journal (fcntl, fstat) around it. The
    // file mapped, not read page by page (a pread each), and a larger page cache for the rest.
    db_.exec("PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -65536; BEGIN");
}

std::map<std::string, std::string> CatalogReader::meta() {
    std::map<std::string, std::string> out;
    auto q = db_.prepare("SELECT key, value FROM skyscript_meta");
    while (q.step()) out[q.column_text(0)] = q.column_text(1);
    return out;
}

std::vector<std::int64_t> CatalogReader::sample_focus() {
    std::vector<std::int64_t> fids;
    auto exists = db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sample_focus'");
    if (!exists.step()) return fids;
    auto q = db_.prepare("SELECT fid FROM sample_focus ORDER BY fid");
    while (q.step()) fids.push_back(q.column_int(0));
    return fids;
}

void CatalogReader::for_each_with_tags(const std::function<void(const CatalogObject&)>& fn) {
    auto q = db_.prepare(select(", o.tags", "ORDER BY o.fid"));
    CatalogObject o;
    while (q.step()) {
        read_light(q, o);
        o.tags = q.column_text(14);
        fn(o);
    }
}

namespace {

// GeoPackage header: "GP", version, flags (bits 1-3: envelope kind), srs id, envelope; then
// ISO WKB. Where the WKB starts, or npos for a blob that is not a GeoPackage geometry.
std::size_t wkb_start(std::string_view blob) {
    static constexpr std::size_t envelope_bytes[] = {0, 32, 48, 48, 64};
    if (blob.size() < 8 || blob[0] != 'G' || blob[1] != 'P') return std::string_view::npos;
    const int envelope = (static_cast<unsigned char>(blob[3]) >> 1) & 7;
    const std::size_t at = 8 + (envelope < 5 ? envelope_bytes[envelope] : 0);
    return at < blob.size() ? at : std::string_view::npos;
}

} // namespace

std::vector<osm::Point> CatalogReader::line_vertices(std::int64_t fid) {
    const auto wkb = geometry_wkb(fid);
    std::vector<osm::Point> pts;
    std::uint32_t type = 0, n = 0;
    if (wkb.size() >= 9 && wkb[0] == 1) {
        std::memcpy(&type, wkb.data() + 1, 4);
        std::memcpy(&n, wkb.data() + 5, 4);
        if (type == 2 && wkb.size() >= 9 + std::size_t{n} * 16)
            for (std::uint32_t i = 0; i < n; ++i) {
                double xy[2];
                std::memcpy(xy, wkb.data() + 9 + i * 16, 16);
                pts.push_back({xy[0], xy[1]});
            }
    }
    return pts;
}

std::string CatalogReader::geometry_wkb(std::int64_t fid) {
    geom_.bind(1, std::int64_t{fid});
    std::string wkb;
    if (geom_.step()) {
        const auto blob = geom_.column_blob(0);
        const std::string_view view = blob;
        if (const auto at = wkb_start(view); at != std::string_view::npos) wkb.assign(view.substr(at));
    }
    geom_.reset();
    return wkb;
}

} // namespace skyscript::pipeline
