#include "pipeline/plan/visible_extent.hpp"

#include "pipeline/catalog/catalog_reader.hpp"

#include <geos_c.h>

#include <cmath>
#include <unordered_map>

namespace skyscript::pipeline {

namespace {

// Geometries read for a tile serve its neighbours (the plan goes object by object, and an
// object's tile meets the same large objects as the next): this many are kept, then all dropped.
constexpr std::size_t cached_geometries = 20000;

struct ToPixels {
    const imagery::TileGrid* grid;
};

// lon/lat -> the tile's pixel coordinates (x right, y down), through its CRS.
int to_pixels(double* x, double* y, void* userdata) {
    const auto& g = *static_cast<ToPixels*>(userdata)->grid;
    double gx, gy;
    imagery::lonlat_to_grid(g.epsg, *x, *y, gx, gy);
    *x = (gx - g.geotransform[0]) / g.gsd;
    *y = (g.geotransform[3] - gy) / g.gsd;
    return std::isfinite(*x) && std::isfinite(*y);
}

} // namespace

struct VisibleExtent::Impl {
    CatalogReader& catalog;
    GEOSContextHandle_t ctx = GEOS_init_r();
    GEOSWKBReader* reader = GEOSWKBReader_create_r(ctx);
    std::unordered_map<std::int64_t, GEOSGeometry*> cache; // lon/lat, by fid (null: unreadable)
    // The tile last measured, and a lon/lat box within it (its corners' inner bounds, a pixel
    // in): an object whose box lies in that box is whole in the tile, no projection needed.
    double tile_key[3] = {0, 0, 0};
    osm::Box inner{0, 0, -1, -1};

    explicit Impl(CatalogReader& c) : catalog(c) {}
    ~Impl() {
        clear();
        GEOSWKBReader_destroy_r(ctx, reader);
        GEOS_finish_r(ctx);
    }
    void clear() {
        for (auto& [fid, g] : cache)
            if (g) GEOSGeom_destroy_r(ctx, g);
        cache.clear();
    }
    const GEOSGeometry* geometry(std::int64_t fid) {
        if (const auto it = cache.find(fid); it != cache.end()) return it->second;
        if (cache.size() >= cached_geometries) clear();
        const auto wkb = catalog.geometry_wkb(fid);
        GEOSGeometry* g = wkb.empty() ? nullptr : GEOSWKBReader_read_r(ctx, reader, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
        return cache[fid] = g;
    }
    // A geometry measured: area for polygons, length for lines (px units after to_pixels).
    double size(const GEOSGeometry* g, char kind) {
        double v = 0;
        if (kind == 'a' ? GEOSArea_r(ctx, g, &v) : GEOSLength_r(ctx, g, &v)) return v;
        return 0;
    }
};

VisibleExtent::VisibleExtent(CatalogReader& catalog) : impl_(std::make_unique<Impl>(catalog)) {}
VisibleExtent::~VisibleExtent() = default;

Visible VisibleExtent::measure(const IndexedObject& o, const imagery::TileGrid& grid) {
    const double w = grid.width, h = grid.height;
    ToPixels to{&grid};
    auto inside = [&](double lon, double lat) {
        double x = lon, y = lat;
        return to_pixels(&x, &y, &to) && x >= 0 && x <= w && y >= 0 && y <= h;
    };
    const double gsd2 = grid.gsd * grid.gsd;
    auto whole = [&]() -> Visible {
        if (o.kind == 'a') return {o.area_m2 / gsd2, 1};
        if (o.kind == 'w') return {o.length_m / grid.gsd, 1};
        return {1, 1};
    };
    const auto& b = o.bbox;
    auto& m = *impl_;
    if (m.tile_key[0] != grid.geotransform[0] || m.tile_key[1] != grid.geotransform[3] || m.tile_key[2] != grid.epsg * 1e6 + w * 1e3 + h) {
        m.tile_key[0] = grid.geotransform[0];
        m.tile_key[1] = grid.geotransform[3];
        m.tile_key[2] = grid.epsg * 1e6 + w * 1e3 + h;
        double lon[4], lat[4];
        const double xs[4] = {1, w - 1, 1, w - 1}, ys[4] = {1, 1, h - 1, h - 1}; // a pixel in from each corner
        for (int i = 0; i < 4; ++i)
            imagery::grid_to_lonlat(grid.epsg, grid.geotransform[0] + xs[i] * grid.gsd, grid.geotransform[3] - ys[i] * grid.gsd, lon[i], lat[i]);
        m.inner = {std::max(lon[0], lon[2]), std::max(lat[2], lat[3]), std::min(lon[1], lon[3]), std::min(lat[0], lat[1])};
        if (grid.box.crosses_antimeridian()) m.inner = {0, 0, -1, -1}; // none: every object projected
    }
    if (m.inner.contains(b)) return whole();
    if (o.kind != 'a' && o.kind != 'w') return inside(o.rep_lon, o.rep_lat) ? whole() : Visible{};
    // Every corner of the box in the tile: the object is (its box bounds it; a lon/lat box's
    // edges bow from straight lines in the tile's CRS by far less than a pixel at tile scale).
    if (inside(b.min_lon, b.min_lat) && inside(b.max_lon, b.min_lat) && inside(b.min_lon, b.max_lat) && inside(b.max_lon, b.max_lat))
        return whole();
    const auto* lonlat = m.geometry(o.fid);
    if (!lonlat) return {};
    // Cut to the tile's lon/lat bounds first (they hold the whole tile), so that only the
    // vertices near it are projected: a forest or a river crossing many tiles has thousands.
    const auto& t = grid.box;
    GEOSGeometry* near = t.crosses_antimeridian() ? GEOSGeom_clone_r(m.ctx, lonlat) : GEOSClipByRect_r(m.ctx, lonlat, t.west, t.south, t.east, t.north);
    if (!near && o.kind == 'a') // an invalid polygon (OSM has some): cut its valid form
        if (GEOSGeometry* valid = GEOSMakeValid_r(m.ctx, lonlat)) {
            near = GEOSClipByRect_r(m.ctx, valid, t.west, t.south, t.east, t.north);
            GEOSGeom_destroy_r(m.ctx, valid);
        }
    if (!near) return {};
    GEOSGeometry* px = GEOSGeom_transformXY_r(m.ctx, near, to_pixels, &to);
    GEOSGeom_destroy_r(m.ctx, near);
    if (!px) return {};
    Visible v;
    if (GEOSGeometry* clipped = GEOSClipByRect_r(m.ctx, px, 0, 0, w, h)) {
        v.px = m.size(clipped, o.kind);
        const double all = whole().px; // the catalog's measure of the whole object, in px
        v.share = all > 0 ? std::min(1.0, v.px / all) : 0;
        GEOSGeom_destroy_r(m.ctx, clipped);
    }
    GEOSGeom_destroy_r(m.ctx, px);
    return v;
}

} // namespace skyscript::pipeline
