#include "pipeline/plan/visible_extent.hpp"

#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/pixel_number.hpp"
#include "pipeline/plan/polygon_clip.hpp"
#include "pipeline/plan/rect_clip.hpp"
#include "pipeline/plan/topology_simplifier.hpp"

#include <geos_c.h>

#include <bit>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <optional>
#include <vector>
#include <unordered_map>

namespace skyscript::pipeline {

namespace {

// Geometries read for a tile serve its neighbours (the plan goes object by object, and an
// object's tile meets the same large objects as the next): this many are kept, then all dropped.
constexpr std::size_t cached_geometries = 20000;

// Vertices projected to a tile's CRS, in a table of fixed size (a vertex's slot by the hash of
// its lon, lat and CRS; a new vertex takes the slot over): the plan projects the same vertices
// again and again (an object is a candidate of a dozen tiles, a way's nodes are its
// neighbours'), and PROJ was a sixth of its time (a tenth with the table). A hit gives what PROJ gave, bit for bit.
class ProjectedVertices {
public:
    void to_grid(int epsg, double lon, double lat, double& x, double& y) {
        const auto a = std::bit_cast<std::uint64_t>(lon), b = std::bit_cast<std::uint64_t>(lat);
        auto& s = slots_[mix(a, b, epsg) & (slots_.size() - 1)];
        if (s.lon == a && s.lat == b && s.epsg == epsg) {
            x = s.x, y = s.y;
            return;
        }
        imagery::lonlat_to_grid(epsg, lon, lat, x, y);
        s = {a, b, x, y, epsg};
    }

private:
    static std::uint64_t mix(std::uint64_t a, std::uint64_t b, int epsg) {
        std::uint64_t h = a * 0x9E3779B97F4A7C15ULL;
        h ^= b + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
        h ^= static_cast<std::uint64_t>(epsg) * 0xD6E8FEB86659FD93ULL;
        h ^= h >> 32;
        h *= 0xD6E8FEB86659FD93ULL;
        return h ^ (h >> 32);
    }
    struct Slot {
        std::uint64_t lon = 0, lat = 0; // the bits of the lon/lat
        double x = 0, y = 0;
        int epsg = 0; // an empty slot's matches no tile
    };
    std::vector<Slot> slots_ = std::vector<Slot>(std::size_t{1} << 14); // 640 KB: as many hits as 40 MB had, fewer cache misses
};

struct ToPixels {
    const imagery::TileGrid* grid;
    ProjectedVertices* vertices;
};

// lon/lat -> the tile's pixel coordinates (x right, y down), through its CRS.
int to_pixels(double* x, double* y, void* userdata) {
    const auto& to = *static_cast<ToPixels*>(userdata);
    const auto& g = *to.grid;
    double gx, gy;
    to.vertices->to_grid(g.epsg, *x, *y, gx, gy);
    *x = (gx - g.geotransform[0]) / g.gsd;
    *y = (g.geotransform[3] - gy) / g.gsd;
    return std::isfinite(*x) && std::isfinite(*y);
}

// A visible size's share of the whole object's (the catalog's measure of it).
double share_of(double px, const Visible& whole) { return whole.px > 0 ? std::min(1.0, px / whole.px) : 0; }

// The whole object's visible size in the tile's pixels, from the catalog's measures.
Visible whole_visible(const IndexedObject& o, const imagery::TileGrid& grid) {
    if (o.kind == 'a') return {o.area_m2 / (grid.gsd * grid.gsd), 1};
    if (o.kind == 'w') return {o.length_m / grid.gsd, 1};
    return {1, 1};
}

} // namespace

struct VisibleExtent::Impl {
    CatalogReader& catalog;
    GEOSContextHandle_t ctx = GEOS_init_r();
    GEOSWKBReader* reader = GEOSWKBReader_create_r(ctx);
    struct Cached {
        GEOSGeometry* lonlat = nullptr; // null: unreadable
        // A line's parts, or a polygon's rings (each polygon's shell, then its holes), made when first asked for.
        std::vector<IndexedPath> paths;
        std::vector<std::size_t> polygon_ends; // areas: where each polygon's rings end in paths
        bool indexed = false;
    };
    std::unordered_map<std::int64_t, Cached> cache; // by fid
    // The tile last measured, and a lon/lat box within it (its corners' inner bounds, a pixel
    // in): an object whose box lies in that box is whole in the tile, no projection needed.
    imagery::TileGrid tile;
    osm::Box inner{0, 0, -1, -1};
    ProjectedVertices projected;
    TopologySimplifier simplifier{ctx};

    explicit Impl(CatalogReader& c) : catalog(c) {}
    ~Impl() {
        clear();
        GEOSWKBReader_destroy_r(ctx, reader);
        GEOS_finish_r(ctx);
    }
    void clear() {
        for (auto& [fid, c] : cache)
            if (c.lonlat) GEOSGeom_destroy_r(ctx, c.lonlat);
        cache.clear();
    }
    Cached& cached(std::int64_t fid) {
        if (const auto it = cache.find(fid); it != cache.end()) return it->second;
        if (cache.size() >= cached_geometries) clear();
        GEOSGeometry* g = nullptr;
        catalog.with_geometry_wkb(fid, [&](std::string_view wkb) {
            if (!wkb.empty()) g = GEOSWKBReader_read_r(ctx, reader, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
        });
        auto& c = cache[fid];
        c.lonlat = g;
        return c;
    }
    const GEOSGeometry* geometry(std::int64_t fid) { return cached(fid).lonlat; }
    // The object's geometry in the tile's pixels, clipped to the tile (owned; null when it
    // cannot be read). Cut to the tile's lon/lat bounds first (they hold the whole tile), so
    // that only the vertices near it are projected: a forest or a river crossing many tiles
    // has thousands. An invalid polygon (OSM has some) is cut in its valid form.
    GEOSGeometry* clipped_px(const IndexedObject& o, const imagery::TileGrid& grid, ToPixels& to, bool whole = false) {
        const auto* lonlat = geometry(o.fid);
        if (!lonlat) return nullptr;
        if (whole) return GEOSGeom_transformXY_r(ctx, lonlat, to_pixels, &to); // in the tile: nothing to cut
        const auto& t = grid.box;
        // A point needs no cut in lon/lat (the pixel clip below places it), and the cut would
        // drop one on the box's edge: a node on a pole, the edge of every tile round it (it had
        // no bbox_px or geometry_px: red-team round 31).
        const bool point = o.kind != 'a' && o.kind != 'w';
        GEOSGeometry* near = t.crosses_antimeridian() || point ? GEOSGeom_clone_r(ctx, lonlat)
                                                               : GEOSClipByRect_r(ctx, lonlat, t.west, t.south, t.east, t.north);
        if (!near && o.kind == 'a')
            if (GEOSGeometry* valid = GEOSMakeValid_r(ctx, lonlat)) {
                near = GEOSClipByRect_r(ctx, valid, t.west, t.south, t.east, t.north);
                GEOSGeom_destroy_r(ctx, valid);
            }
        if (!near) return nullptr;
        GEOSGeometry* px = GEOSGeom_transformXY_r(ctx, near, to_pixels, &to);
        GEOSGeom_destroy_r(ctx, near);
        if (!px) return nullptr;
        GEOSGeometry* clipped = GEOSClipByRect_r(ctx, px, 0, 0, grid.width, grid.height);
        GEOSGeom_destroy_r(ctx, px);
        return clipped;
    }
    // The tile's inner lon/lat box, computed when the tile changes.
    const osm::Box& at_tile(const imagery::TileGrid& grid) {
        if (tile.epsg != grid.epsg || tile.width != grid.width || tile.height != grid.height || tile.gsd != grid.gsd ||
            tile.geotransform[0] != grid.geotransform[0] || tile.geotransform[3] != grid.geotransform[3]) {
            tile = grid;
            tile_areas_used = 0;
            const double w = grid.width, h = grid.height;
            double lon[4], lat[4];
            const double xs[4] = {1, w - 1, 1, w - 1}, ys[4] = {1, 1, h - 1, h - 1}; // a pixel in from each corner
            for (int i = 0; i < 4; ++i)
                imagery::grid_to_lonlat(grid.epsg, grid.geotransform[0] + xs[i] * grid.gsd, grid.geotransform[3] - ys[i] * grid.gsd, lon[i], lat[i]);
            inner = {std::max(lon[0], lon[2]), std::max(lat[2], lat[3]), std::min(lon[1], lon[3]), std::min(lat[0], lat[1])};
            if (grid.box.crosses_antimeridian()) inner = {0, 0, -1, -1}; // none: every object projected
        }
        return inner;
    }
    // The length in px of a line's part in the tile, as clipped_px's geometry would measure it
    // (the line cut to the tile's lon/lat box, its cut ends projected, cut again to the tile's
    // pixels), without making the geometries: a segment at a time (lines are most of the
    // objects that cross a tile's edge, and GEOS's clipping was the plan's largest cost).
    // nullopt when the geometry cannot be read.
    std::optional<double> line_px(const IndexedObject& o, const imagery::TileGrid& grid, ToPixels& to) {
        auto& c = cached(o.fid);
        if (!c.lonlat) return std::nullopt;
        index_paths(c);
        if (!c.polygon_ends.empty()) return 0.0; // a polygon has no line part
        const auto& t = grid.box;
        const bool cut_lonlat = !t.crosses_antimeridian(); // as clipped_px: across it, nothing is cut in lon/lat
        const PlaneRect box{t.west, t.south, t.east, t.north}, pixels{0, 0, double(grid.width), double(grid.height)};
        double length = 0;
        for (const auto& part : c.paths) {
            if (part.points() < 2) continue;
            const auto& coords = part.xy;
            // The last projected point, reused when the next segment starts where it ended.
            double last_lon = NAN, last_lat = NAN, last_x = 0, last_y = 0;
            bool last_ok = false;
            auto project = [&](double lon, double lat, double& x, double& y) {
                if (lon == last_lon && lat == last_lat) {
                    x = last_x, y = last_y;
                    return last_ok;
                }
                x = lon, y = lat;
                last_ok = to_pixels(&x, &y, &to) != 0;
                last_lon = lon, last_lat = lat, last_x = x, last_y = y;
                return last_ok;
            };
            auto segments = [&](std::size_t first, std::size_t last) {
                for (std::size_t i = first; i < last; ++i) {
                    double ax = coords[2 * i], ay = coords[2 * i + 1], bx = coords[2 * i + 2], by = coords[2 * i + 3];
                    if (cut_lonlat) {
                        double t0, t1;
                        if (!clip_segment(ax, ay, bx, by, box, t0, t1)) continue;
                        const double dx = bx - ax, dy = by - ay;
                        if (t1 < 1) bx = ax + t1 * dx, by = ay + t1 * dy;
                        if (t0 > 0) ax = ax + t0 * dx, ay = ay + t0 * dy;
                    }
                    double pax, pay, pbx, pby;
                    if (!project(ax, ay, pax, pay) || !project(bx, by, pbx, pby)) continue;
                    double t0, t1;
                    if (!clip_segment(pax, pay, pbx, pby, pixels, t0, t1)) continue;
                    length += (t1 - t0) * std::hypot(pbx - pax, pby - pay);
                }
            };
            // Cut in lon/lat, a segment away from the box adds nothing: only the runs that reach it are walked.
            if (cut_lonlat) part.for_each_run_meeting(box, segments);
            else segments(0, part.points() - 1);
        }
        return length;
    }
    // The geometry's lines or rings as IndexedPaths (their coordinates copied out of GEOS once).
    void index_paths(Cached& c) {
        if (c.indexed) return;
        c.indexed = true;
        auto add = [&](const GEOSGeometry* line) {
            const auto* seq = line ? GEOSGeom_getCoordSeq_r(ctx, line) : nullptr;
            unsigned n = 0;
            if (!seq || !GEOSCoordSeq_getSize_r(ctx, seq, &n)) n = 0;
            IndexedPath p;
            p.xy.resize(2 * static_cast<std::size_t>(n));
            if (n && !GEOSCoordSeq_copyToBuffer_r(ctx, seq, p.xy.data(), 0, 0)) p.xy.clear();
            p.index();
            c.paths.push_back(std::move(p));
        };
        const int type = GEOSGeomTypeId_r(ctx, c.lonlat);
        if (type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON) {
            const int polygons = type == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(ctx, c.lonlat);
            for (int k = 0; k < polygons; ++k) {
                const GEOSGeometry* polygon = type == GEOS_POLYGON ? c.lonlat : GEOSGetGeometryN_r(ctx, c.lonlat, k);
                add(GEOSGetExteriorRing_r(ctx, polygon));
                for (int r = 0, holes = GEOSGetNumInteriorRings_r(ctx, polygon); r < holes; ++r) add(GEOSGetInteriorRingN_r(ctx, polygon, r));
                c.polygon_ends.push_back(c.paths.size());
            }
        } else if (type == GEOS_LINESTRING || type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
            const bool single = type == GEOS_LINESTRING;
            for (int k = 0, parts = single ? 1 : GEOSGetNumGeometries_r(ctx, c.lonlat); k < parts; ++k) {
                const GEOSGeometry* part = single ? c.lonlat : GEOSGetGeometryN_r(ctx, c.lonlat, k);
                if (part && GEOSGeomTypeId_r(ctx, part) == GEOS_LINESTRING) add(part);
            }
        }
    }
    std::vector<double> cut; // line parts, x y x y ...

    // The object's geometry with its lines or rings indexed, when it is a `single` (a LineString or
    // a Polygon) or a collection of them (`multi`) all of whose parts were indexed: yes; no when
    // it cannot be read; other for anything else (GEOS handles those).
    enum class Readable { no, other, yes };
    Readable indexed_as(const IndexedObject& o, int single, int multi, Cached*& out) {
        auto& c = cached(o.fid);
        if (!c.lonlat) return Readable::no;
        const int type = GEOSGeomTypeId_r(ctx, c.lonlat);
        if (type != single && type != multi) return Readable::other;
        index_paths(c);
        const std::size_t parts = type == single ? 1 : static_cast<std::size_t>(GEOSGetNumGeometries_r(ctx, c.lonlat));
        if ((single == GEOS_POLYGON ? c.polygon_ends.size() : c.paths.size()) != parts) return Readable::other;
        out = &c;
        return Readable::yes;
    }
    // A line's parts in the tile's pixels as clipped_px's geometry has them, point for point,
    // made without GEOS (cut_line is GEOS's line clip): into `px`, each part's end in `px_ends`.
    // nullopt when GEOS must make them (a geometry other than lines, a part under two points);
    // false when there is none or a vertex does not project (clipped_px gives no geometry then).
    std::optional<bool> line_parts_px(const IndexedObject& o, const imagery::TileGrid& grid, ToPixels& to, bool whole) {
        Cached* geometry = nullptr;
        if (const auto read = indexed_as(o, GEOS_LINESTRING, GEOS_MULTILINESTRING, geometry); read != Readable::yes)
            return read == Readable::no ? std::optional<bool>(false) : std::nullopt;
        const auto& c = *geometry;
        for (const auto& part : c.paths)
            if (part.points() < 2) return std::nullopt;
        const auto& t = grid.box;
        const bool cut_lonlat = !whole && !t.crosses_antimeridian(); // as clipped_px
        const PlaneRect box{t.west, t.south, t.east, t.north}, pixels{0, 0, double(grid.width), double(grid.height)};
        cut.clear(), cut_ends.clear();
        for (const auto& part : c.paths) {
            if (cut_lonlat) {
                clip_line(part.xy.data(), part.points(), box, cut, cut_ends, &part.runs);
            } else {
                cut.insert(cut.end(), part.xy.begin(), part.xy.end());
                cut_ends.push_back(cut.size());
            }
        }
        for (std::size_t i = 0; i < cut.size(); i += 2)
            if (!to_pixels(&cut[i], &cut[i + 1], &to)) return false;
        px.clear(), px_ends.clear();
        if (whole) {
            px.swap(cut), px_ends.swap(cut_ends);
        } else {
            for (std::size_t k = 0, start = 0; k < cut_ends.size(); start = cut_ends[k++])
                clip_line(cut.data() + start, (cut_ends[k] - start) / 2, pixels, px, px_ends);
        }
        return !px.empty();
    }
    std::vector<double> px;
    std::vector<std::size_t> cut_ends, px_ends;
    std::vector<char> keep;

    // An area's polygons in the tile's pixels as clipped_px's geometry has them, polygon for
    // polygon and point for point, made without GEOS (clip_polygons is GEOS's clip): into
    // area_px_polygons (none: GEOS's clip is empty). nullopt when GEOS must make them (a
    // geometry other than polygons, a clip GEOS's filter cannot decide or GEOS would refuse);
    // false when the geometry cannot be read or a vertex does not project (clipped_px gives none).
    std::optional<bool> area_polygons_px(const IndexedObject& o, const imagery::TileGrid& grid, ToPixels& to, bool whole) {
        Cached* geometry = nullptr;
        if (const auto read = indexed_as(o, GEOS_POLYGON, GEOS_MULTIPOLYGON, geometry); read != Readable::yes)
            return read == Readable::no ? std::optional<bool>(false) : std::nullopt;
        const auto& c = *geometry;
        lonlat_view.rings.clear();
        for (const auto& ring : c.paths) lonlat_view.rings.push_back({ring.xy.data(), ring.points(), &ring.runs});
        lonlat_view.polygon_ends = c.polygon_ends;
        const auto& t = grid.box;
        if (!whole && !t.crosses_antimeridian()) { // as clipped_px
            if (!clip_polygons(lonlat_view, {t.west, t.south, t.east, t.north}, cut_polygons)) return std::nullopt;
        } else {
            cut_polygons.clear();
            for (std::size_t k = 0, r = 0; k < c.polygon_ends.size(); ++k) {
                for (; r < c.polygon_ends[k]; ++r) cut_polygons.add_ring(c.paths[r].xy.data(), c.paths[r].xy.data() + c.paths[r].xy.size());
                cut_polygons.end_polygon();
            }
        }
        for (std::size_t i = 0; i < cut_polygons.xy.size(); i += 2)
            if (!to_pixels(&cut_polygons.xy[i], &cut_polygons.xy[i + 1], &to)) return false;
        if (whole) {
            std::swap(area_px_polygons, cut_polygons);
        } else if (px_view.view(cut_polygons); !clip_polygons(px_view, {0, 0, double(grid.width), double(grid.height)}, area_px_polygons)) {
            return std::nullopt;
        }
        return true;
    }
    PolygonsView lonlat_view, px_view;
    PlanePolygons cut_polygons, area_px_polygons;

    // The areas measure() clipped in the current tile (at_tile empties it), by fid: describe()
    // takes the same clip from here instead of making it again (the focus and the named areas
    // around it, each measured just before). Entries are reused, their buffers kept: a clip is
    // swapped in, not copied (area_px_polygons is made again before it is next read).
    std::vector<std::pair<std::int64_t, PlanePolygons>> tile_areas;
    std::size_t tile_areas_used = 0;
    void keep_area(std::int64_t fid) {
        if (tile_areas_used == tile_areas.size()) tile_areas.emplace_back();
        auto& [f, polygons] = tile_areas[tile_areas_used++];
        f = fid;
        std::swap(polygons, area_px_polygons);
    }
    const PlanePolygons* kept_area(std::int64_t fid) const {
        for (std::size_t i = 0; i < tile_areas_used; ++i)
            if (tile_areas[i].first == fid) return &tile_areas[i].second;
        return nullptr;
    }

    // A geometry measured: area for polygons, length for lines (px units after to_pixels).
    double size(const GEOSGeometry* g, char kind) {
        double v = 0;
        if (kind == 'a' ? GEOSArea_r(ctx, g, &v) : GEOSLength_r(ctx, g, &v)) return v;
        return 0;
    }
};

VisibleExtent::VisibleExtent(CatalogReader& catalog, bool exact) : impl_(std::make_unique<Impl>(catalog)), exact_(exact) {}
VisibleExtent::~VisibleExtent() = default;

// Whether the object lies in the tile whole, told without its geometry when it can be:
// a box inside the tile's inner lon/lat box; a point by its position; else every corner of
// the box in the tile (its box bounds it; a lon/lat box's edges bow from straight lines in
// the tile's CRS by far less than a pixel at tile scale). nullopt: only its geometry can tell.
std::optional<bool> VisibleExtent::whole_in_tile(const IndexedObject& o, const imagery::TileGrid& grid) {
    const double w = grid.width, h = grid.height;
    ToPixels to{&grid, &impl_->projected};
    auto inside = [&](double lon, double lat) {
        double x = lon, y = lat;
        return to_pixels(&x, &y, &to) && x >= 0 && x <= w && y >= 0 && y <= h;
    };
    const auto& b = o.bbox;
    if (impl_->at_tile(grid).contains(b)) return true;
    if (o.kind != 'a' && o.kind != 'w') return inside(o.rep_lon, o.rep_lat);
    if (inside(b.min_lon, b.min_lat) && inside(b.max_lon, b.min_lat) && inside(b.min_lon, b.max_lat) && inside(b.max_lon, b.max_lat)) return true;
    return std::nullopt;
}

// The copies of GEOS's algorithms answer for it: not in exact mode, and only with the GEOS they copy.
bool VisibleExtent::copies() const { return !exact_ && TopologySimplifier::matches_runtime_geos(); }

Visible VisibleExtent::measure(const IndexedObject& o, const imagery::TileGrid& grid) {
    const auto whole = whole_visible(o, grid);
    if (const auto in = whole_in_tile(o, grid)) return *in ? whole : Visible{};
    auto& m = *impl_;
    ToPixels to{&grid, &impl_->projected};
    std::optional<double> px;
    std::optional<bool> made;
    if (o.kind == 'w') {
        px = m.line_px(o, grid, to);
    } else if (o.kind == 'a' && copies() && (made = m.area_polygons_px(o, grid, to, false))) {
        // GEOS's clip of it and GEOS's area of that, on coordinates (polygon_clip.hpp): GEOS's figure.
        if (!*made) return {};
        px = polygons_area(m.area_px_polygons);
        m.keep_area(o.fid);
    } else if (GEOSGeometry* clipped = m.clipped_px(o, grid, to)) {
        px = m.size(clipped, o.kind);
        GEOSGeom_destroy_r(m.ctx, clipped);
    }
    if (!px) return {}; // its geometry cannot be read
    return {*px, share_of(*px, whole)};
}

namespace {

// A point as geometry_px writes it: [x,y].
void append_xy(std::string& out, double x, double y) {
    out += '[';
    append_pixel_number(out, x);
    out += ',';
    append_pixel_number(out, y);
    out += ']';
}

void append_coordinates(std::string& out, GEOSContextHandle_t ctx, const GEOSGeometry* g, bool point) {
    const auto* seq = GEOSGeom_getCoordSeq_r(ctx, g);
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(ctx, seq, &n)) n = 0;
    if (!point) out += '[';
    for (unsigned i = 0; i < n && (!point || i == 0); ++i) {
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(ctx, seq, i, &x, &y);
        if (i) out += ',';
        append_xy(out, x, y);
    }
    if (!point) out += ']';
}

// "bbox_px":[x0,y0,x1,y1]
void append_bbox(std::string& out, const PlaneRect& b) {
    out += "\"bbox_px\":[";
    for (double c : {b.x0, b.y0, b.x1, b.y1}) {
        append_pixel_number(out, c);
        out += ',';
    }
    out.back() = ']';
}

// ,"visible_px":...,"visible_share":...
void append_visible(std::string& out, const Visible& v) {
    out += ",\"visible_px\":";
    append_pixel_number(out, v.px);
    out += ",\"visible_share\":";
    // 4 significant digits, not decimals: a few visible pixels of a forest of square kilometres
    // are a share of 1e-6, which must not read as none of it.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::isfinite(v.share) ? v.share + 0.0 : 0.0, std::chars_format::general, 4);
    out.append(buf, r.ptr);
}

// The simplifier's polygons as collect() writes GEOS's: [[ring],[ring]] a polygon, a ring [[x,y],...].
void append_polygons(std::string& out, const TopologySimplifier& s) {
    const auto& xy = s.xy();
    std::size_t ring = 0, point = 0;
    for (std::size_t p = 0; p < s.polygons(); ++p) {
        if (p) out += ',';
        out += '[';
        for (const std::size_t first_ring = ring; ring < s.polygon_ends()[p]; ++ring) {
            if (ring > first_ring) out += ',';
            out += '[';
            for (const std::size_t first_point = point; point < s.ring_ends()[ring]; ++point) {
                if (point > first_point) out += ',';
                append_xy(out, xy[2 * point], xy[2 * point + 1]);
            }
            out += ']';
        }
        out += ']';
    }
}

// The parts of `g` of the object's kind, whatever collection the clipping made of them, each
// after a comma but the first (`first` tells); a point is written bare, [x, y].
void collect(std::string& out, GEOSContextHandle_t ctx, const GEOSGeometry* g, char kind, bool& first) {
    const int type = GEOSGeomTypeId_r(ctx, g);
    auto separate = [&] {
        if (!first) out += ',';
        first = false;
    };
    if (type == GEOS_MULTIPOINT || type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(ctx, g); ++i) collect(out, ctx, GEOSGetGeometryN_r(ctx, g, i), kind, first);
    } else if (kind == 'a' && type == GEOS_POLYGON) {
        separate();
        out += '[';
        append_coordinates(out, ctx, GEOSGetExteriorRing_r(ctx, g), false);
        for (int i = 0; i < GEOSGetNumInteriorRings_r(ctx, g); ++i) {
            out += ',';
            append_coordinates(out, ctx, GEOSGetInteriorRingN_r(ctx, g, i), false);
        }
        out += ']';
    } else if (kind == 'w' && type == GEOS_LINESTRING) {
        separate();
        append_coordinates(out, ctx, g, false);
    } else if (kind != 'a' && kind != 'w' && type == GEOS_POINT && first) {
        first = false;
        append_coordinates(out, ctx, g, true);
    }
}

} // namespace

bool VisibleExtent::describe(std::string& out, const IndexedObject& o, const imagery::TileGrid& grid, const Visible& visible) {
    auto& m = *impl_;
    ToPixels to{&grid, &impl_->projected};
    // Inside the tile's inner box (a pixel in from its edges), nothing needs cutting; the
    // corner test of whole_in_tile leaves room for a lon/lat edge's sub-pixel bow, so not that.
    const bool inner = m.at_tile(grid).contains(o.bbox);
    if (o.kind == 'w' && copies()) // copies of GEOS 3.11.1's line clip and Douglas-Peucker
        if (const auto made = m.line_parts_px(o, grid, to, inner)) {
            if (!*made) return false;
            append_bbox(out, box_of_points(m.px.data(), 0, m.px.size() / 2 - 1)); // GEOS's envelope of the parts
            out += ",\"geometry_px\":[";
            for (std::size_t k = 0, start = 0; k < m.px_ends.size(); start = m.px_ends[k++]) { // each part as GEOSSimplify leaves it
                const double* xy = m.px.data() + start;
                const std::size_t n = (m.px_ends[k] - start) / 2;
                douglas_peucker(xy, n, 0.5, m.keep);
                if (k) out += ',';
                out += '[';
                bool first = true;
                for (std::size_t i = 0; i < n; ++i) {
                    if (!m.keep[i]) continue;
                    if (!first) out += ',';
                    first = false;
                    append_xy(out, xy[2 * i], xy[2 * i + 1]);
                }
                out += ']';
            }
            out += ']';
            append_visible(out, visible);
            return true;
        }
    if (o.kind == 'a' && copies()) { // copies of GEOS 3.11.1's polygon clip and simplifier
        // Kept by measure() in this tile: it clips, as area_polygons_px(..., false), only an
        // area not inside the inner box, for which inner is false here too.
        const PlanePolygons* kept = inner ? nullptr : m.kept_area(o.fid);
        if (const auto made = kept ? std::optional<bool>(true) : m.area_polygons_px(o, grid, to, inner)) {
            const auto& polygons = kept ? *kept : m.area_px_polygons;
            if (!*made || polygons.polygon_ends.empty()) return false;
            if (m.simplifier.simplify(polygons, 0.5)) { // else GEOS below, from the start
                // GEOS's envelope of polygons: their shells'.
                const auto shell_box = [&](std::size_t p) {
                    const std::size_t shell = polygons.polygon_begin(p);
                    return box_of_points(polygons.ring(shell), 0, polygons.ring_points(shell) - 1);
                };
                PlaneRect box = shell_box(0);
                for (std::size_t p = 1; p < polygons.polygon_ends.size(); ++p) box = united(box, shell_box(p));
                append_bbox(out, box);
                out += ",\"geometry_px\":[";
                append_polygons(out, m.simplifier);
                out += ']';
                append_visible(out, visible);
                return true;
            }
        }
    }
    GEOSGeometry* clipped = m.clipped_px(o, grid, to, inner);
    if (!clipped) return false;
    if (GEOSisEmpty_r(m.ctx, clipped) != 0) {
        GEOSGeom_destroy_r(m.ctx, clipped);
        return false;
    }
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    GEOSGeom_getXMin_r(m.ctx, clipped, &x0);
    GEOSGeom_getYMin_r(m.ctx, clipped, &y0);
    GEOSGeom_getXMax_r(m.ctx, clipped, &x1);
    GEOSGeom_getYMax_r(m.ctx, clipped, &y1);
    append_bbox(out, {x0, y0, x1, y1});
    // Half a pixel: an area keeps its rings valid (topology-preserving); a line's parts need
    // no such care, and Douglas-Peucker is several times cheaper.
    const bool simplified = o.kind == 'a' && !exact_ && m.simplifier.simplify(clipped, 0.5); // GEOS's rings, made here
    GEOSGeometry* simple = simplified      ? nullptr
                           : o.kind == 'a' ? GEOSTopologyPreserveSimplify_r(m.ctx, clipped, 0.5)
                           : o.kind == 'w' ? GEOSSimplify_r(m.ctx, clipped, 0.5)
                                           : nullptr;
    const bool point = o.kind != 'a' && o.kind != 'w';
    out += ",\"geometry_px\":";
    if (!point) out += '[';
    bool first = true;
    const auto before = out.size();
    if (simplified) append_polygons(out, m.simplifier);
    else collect(out, m.ctx, simple ? simple : clipped, o.kind, first);
    if (point && out.size() == before) out += "[]";
    if (!point) out += ']';
    append_visible(out, visible);
    if (simple) GEOSGeom_destroy_r(m.ctx, simple);
    GEOSGeom_destroy_r(m.ctx, clipped);
    return true;
}

} // namespace skyscript::pipeline
