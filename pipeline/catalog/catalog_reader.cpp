#include "pipeline/catalog/catalog_reader.hpp"


#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace skyscript::pipeline {

namespace {

constexpr const char* object_columns = "fid, osm_type, osm_id, kind, focus_tag, max_gsd, rep_lon, rep_lat, "
                                       "coalesce(area_m2, 0), coalesce(length_m, 0), tags";

char first_char(std::string_view s) { return s.empty() ? '\0' : s[0]; }

// Into `o`'s own strings (assigned, not replaced: their buffers serve the next object).
void read_object(const SqliteStatement& q, CatalogObject& o) {
    o.fid = q.column_int(0);
    o.osm_type = first_char(q.column_text_view(1));
    o.osm_id = q.column_int(2);
    o.kind = first_char(q.column_text_view(3));
    o.focus_tag.assign(q.column_text_view(4));
    o.max_gsd = q.column_double(5);
    o.rep_lon = q.column_double(6);
    o.rep_lat = q.column_double(7);
    o.area_m2 = q.column_double(8);
    o.length_m = q.column_double(9);
    o.tags.assign(q.column_text_view(10));
}

// A FIFO put in the catalog's place would keep SQLite's open waiting for a writer for ever (a
// link to a catalog is read as the catalog: --catalog and shards share one so).
const std::string& regular_or_missing(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        throw std::runtime_error(path + ": not a regular file (a folder, a pipe or a device), where the catalog belongs");
    return path;
}

} // namespace

CatalogReader::CatalogReader(const std::string& path)
    : db_(regular_or_missing(path), SQLITE_OPEN_READONLY),
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
    const auto boxes = boxes_by_fid();
    for_each_with_tags(boxes, fn);
}

std::vector<FidBox> CatalogReader::boxes_by_fid() {
    // Read in one pass over the R-tree, and met with the objects as they come: joining the two
    // tables looked each object up in the R-tree, which cost twice the reading of both.
    std::vector<FidBox> boxes;
    auto r = db_.prepare("SELECT id, minx, miny, maxx, maxy FROM rtree_objects_geom");
    while (r.step()) boxes.push_back({r.column_int(0), {r.column_double(1), r.column_double(2), r.column_double(3), r.column_double(4)}});
    std::sort(boxes.begin(), boxes.end(), [](const FidBox& a, const FidBox& b) { return a.fid < b.fid; });
    return boxes;
}

void CatalogReader::for_each_with_tags(std::span<const FidBox> boxes, const std::function<void(const CatalogObject&)>& fn) {
    if (boxes.empty()) return;
    auto q = db_.prepare(std::string("SELECT ") + object_columns + " FROM objects WHERE fid BETWEEN ?1 AND ?2 ORDER BY fid");
    q.bind(1, boxes.front().fid).bind(2, boxes.back().fid);
    CatalogObject o;
    auto b = boxes.begin();
    while (q.step() && b != boxes.end()) {
        const auto fid = q.column_int(0);
        while (b != boxes.end() && b->fid < fid) ++b;
        if (b == boxes.end() || b->fid != fid) continue; // no box: not in the R-tree (the join left it out)
        read_object(q, o);
        o.bbox = b->box;
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

void CatalogReader::with_geometry_wkb(std::int64_t fid, const std::function<void(std::string_view)>& fn) {
    geom_.bind(1, std::int64_t{fid});
    std::string_view wkb;
    if (geom_.step()) {
        const auto blob = geom_.column_blob(0);
        if (const auto at = wkb_start(blob); at != std::string_view::npos) wkb = blob.substr(at);
    }
    struct Reset { // the statement is reset even when fn throws
        SqliteStatement& q;
        ~Reset() { q.reset(); }
    } reset{geom_};
    fn(wkb);
}

std::string CatalogReader::geometry_wkb(std::int64_t fid) {
    std::string wkb;
    with_geometry_wkb(fid, [&](std::string_view v) { wkb.assign(v); });
    return wkb;
}

} // namespace skyscript::pipeline
