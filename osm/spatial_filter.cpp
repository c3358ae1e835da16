#include "osm/spatial_filter.hpp"


#include <geos_c.h>

#include <functional>
#include <stdexcept>

static_assert(sizeof(skyscript::osm::Point) == 2 * sizeof(double), "Point arrays are read by GEOS as x,y pairs");

namespace skyscript::osm {

// One GEOS context (reentrant API) and the region's polygons, each prepared with its bbox.
struct SpatialFilter::Geos {
    struct Polygon {
        GEOSGeometry* geometry;
        const GEOSPreparedGeometry* prepared;
        Box bbox;
    };
    GEOSContextHandle_t ctx = GEOS_init_r();
    std::vector<Polygon> polygons;
    // Over the polygons' envelopes once there are many (a country's islands): a test then
    // looks at the few polygons near the object, not at all of them.
    GEOSSTRtree* tree = nullptr;
    static constexpr std::size_t tree_from = 8;
    std::string last_error;
    std::size_t seen = 0;  // polygons offered to add(), for messages
    std::string dropped;   // why the first dropped one was

    Geos() {
        GEOSContext_setErrorMessageHandler_r(
            ctx, [](const char* message, void* self) { static_cast<Geos*>(self)->last_error = message; }, this);
    }
    ~Geos() {
        if (tree) GEOSSTRtree_destroy_r(ctx, tree);
        for (const auto& p : polygons) {
            GEOSPreparedGeom_destroy_r(ctx, p.prepared);
            GEOSGeom_destroy_r(ctx, p.geometry);
        }
        GEOS_finish_r(ctx);
    }

    // Takes ownership of g, a polygon with an area (anything else is dropped, an empty one
    // noted in `dropped`). An invalid polygon (a self-intersecting ring, ...) is refused:
    // GEOS's tests on it give wrong answers or fail halfway through the extract.
    void add(GEOSGeometry* g) {
        ++seen;
        double area = 0;
        if (g && GEOSGeomTypeId_r(ctx, g) == GEOS_POLYGON && GEOSisValid_r(ctx, g) == 0) {
            char* reason = GEOSisValidReason_r(ctx, g);
            const std::string why = reason ? reason : "invalid";
            if (reason) GEOSFree_r(ctx, reason);
            GEOSGeom_destroy_r(ctx, g);
            throw std::invalid_argument("polygon " + std::to_string(seen) + " is not valid (" + why + "); repair it, e.g. ogr2ogr -makevalid");
        }
        if (!g || GEOSGeomTypeId_r(ctx, g) != GEOS_POLYGON || !GEOSArea_r(ctx, g, &area) || !(area > 0)) {
            if (g) GEOSGeom_destroy_r(ctx, g);
            if (dropped.empty()) dropped = "polygon " + std::to_string(seen) + " is empty or has no area";
            return;
        }
        Box b;
        GEOSGeom_getXMin_r(ctx, g, &b.min_lon);
        GEOSGeom_getYMin_r(ctx, g, &b.min_lat);
        GEOSGeom_getXMax_r(ctx, g, &b.max_lon);
        GEOSGeom_getYMax_r(ctx, g, &b.max_lat);
        polygons.push_back({g, GEOSPrepare_r(ctx, g), b});
    }

    void build_tree() {
        if (polygons.size() < tree_from) return;
        tree = GEOSSTRtree_create_r(ctx, 10);
        for (auto& p : polygons) GEOSSTRtree_insert_r(ctx, tree, p.geometry, &p);
    }

    // Does g (owned, destroyed here) with bbox `box` meet any polygon?
    bool test(GEOSGeometry* g, const Box& box) {
        if (!g) throw std::runtime_error("region test: GEOS could not build an object's geometry (" + last_error + ")");
        struct Query {
            Geos* self;
            GEOSGeometry* g;
            const Box* box;
            bool hit = false, failed = false;
            void visit(const Polygon& p) {
                if (hit || failed || !p.bbox.intersects(*box)) return;
                const char r = GEOSPreparedIntersects_r(self->ctx, p.prepared, g);
                hit = r == 1;
                failed = r == 2;
            }
        } q{this, g, &box};
        if (tree) {
            GEOSSTRtree_query_r(
                ctx, tree, g, [](void* item, void* query) { static_cast<Query*>(query)->visit(*static_cast<const Polygon*>(item)); }, &q);
        } else {
            for (const auto& p : polygons) q.visit(p);
        }
        GEOSGeom_destroy_r(ctx, g);
        if (q.failed) throw std::runtime_error("region test: GEOS failed (" + last_error + ")");
        return q.hit;
    }

    GEOSCoordSequence* sequence(const Point* b, const Point* e) {
        return GEOSCoordSeq_copyFromBuffer_r(ctx, &b->lon, static_cast<unsigned>(e - b), 0, 0);
    }
};

SpatialFilter::SpatialFilter(std::unique_ptr<Geos> geos) : geos_(std::move(geos)) {
    if (geos_->polygons.empty())
        throw std::invalid_argument("the region has no polygon with an area" + (geos_->dropped.empty() ? std::string() : " (" + geos_->dropped + ")"));
    geos_->build_tree();
    bbox_ = geos_->polygons.front().bbox;
    for (const auto& p : geos_->polygons) bbox_.add(p.bbox);
}

SpatialFilter::SpatialFilter(const std::vector<std::string>& polygon_wkbs) : SpatialFilter([&] {
        auto geos = std::make_unique<Geos>();
        auto* ctx = geos->ctx;
        // Freed on every way out: add() throws on an invalid polygon.
        const auto reader = std::unique_ptr<GEOSWKBReader, std::function<void(GEOSWKBReader*)>>(
            GEOSWKBReader_create_r(ctx), [ctx](GEOSWKBReader* r) { GEOSWKBReader_destroy_r(ctx, r); });
        for (const auto& wkb : polygon_wkbs) {
            const auto g = std::unique_ptr<GEOSGeometry, std::function<void(GEOSGeometry*)>>(
                GEOSWKBReader_read_r(ctx, reader.get(), reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size()),
                [ctx](GEOSGeometry* p) { GEOSGeom_destroy_r(ctx, p); });
            if (!g) throw std::invalid_argument("a polygon GEOS cannot read (" + geos->last_error + ")");
            if (GEOSGeomTypeId_r(ctx, g.get()) == GEOS_POLYGON) {
                geos->add(GEOSGeom_clone_r(ctx, g.get()));
                continue;
            }
            // A MultiPolygon's parts, each on its own: overlapping parts stay inside.
            for (int i = 0, n = GEOSGetNumGeometries_r(ctx, g.get()); i < n; ++i)
                geos->add(GEOSGeom_clone_r(ctx, GEOSGetGeometryN_r(ctx, g.get(), i)));
        }
        return geos;
    }()) {
    wkbs_ = std::make_shared<const std::vector<std::string>>(polygon_wkbs);
}

SpatialFilter SpatialFilter::copy() const { return is_rectangle_ ? rectangle(bbox_) : SpatialFilter(*wkbs_); }

SpatialFilter SpatialFilter::rectangle(const Box& b) {
    auto geos = std::make_unique<Geos>();
    const Point ring[] = {{b.min_lon, b.min_lat}, {b.max_lon, b.min_lat}, {b.max_lon, b.max_lat}, {b.min_lon, b.max_lat}, {b.min_lon, b.min_lat}};
    geos->add(GEOSGeom_createPolygon_r(geos->ctx, GEOSGeom_createLinearRing_r(geos->ctx, geos->sequence(ring, ring + 5)), nullptr, 0));
    SpatialFilter f{std::move(geos)};
    f.is_rectangle_ = true;
    return f;
}

SpatialFilter::SpatialFilter(SpatialFilter&&) noexcept = default;
SpatialFilter& SpatialFilter::operator=(SpatialFilter&&) noexcept = default;
SpatialFilter::~SpatialFilter() = default;

bool SpatialFilter::contains(const Point& p) const {
    if (p.lon < bbox_.min_lon || p.lon > bbox_.max_lon || p.lat < bbox_.min_lat || p.lat > bbox_.max_lat) return false;
    if (is_rectangle_) return true;
    return geos_->test(GEOSGeom_createPointFromXY_r(geos_->ctx, p.lon, p.lat), {p.lon, p.lat, p.lon, p.lat});
}

bool SpatialFilter::intersects(const Shape& shape, const Box& box) const {
    if (!bbox_.intersects(box)) return false;
    if (is_rectangle_ && bbox_.contains(box)) return true;
    auto* ctx = geos_->ctx;
    const Point* pts = shape.pts.data();
    switch (shape.type) {
        case Shape::Type::point: return contains(pts[0]);
        case Shape::Type::line: return geos_->test(GEOSGeom_createLineString_r(ctx, geos_->sequence(pts, pts + shape.pts.size())), box);
        case Shape::Type::polygons: break;
    }
    std::vector<GEOSGeometry*> polygons, holes;
    for (std::size_t i = 0; i < shape.parts.size();) {
        GEOSGeometry* shell = GEOSGeom_createLinearRing_r(ctx, geos_->sequence(pts + shape.parts[i].begin, pts + shape.parts[i].end));
        holes.clear();
        std::size_t j = i + 1;
        for (; j < shape.parts.size() && !shape.parts[j].outer; ++j)
            if (auto* h = GEOSGeom_createLinearRing_r(ctx, geos_->sequence(pts + shape.parts[j].begin, pts + shape.parts[j].end))) holes.push_back(h);
        if (shell) polygons.push_back(GEOSGeom_createPolygon_r(ctx, shell, holes.data(), static_cast<unsigned>(holes.size())));
        else for (auto* h : holes) GEOSGeom_destroy_r(ctx, h);
        i = j;
    }
    std::erase(polygons, nullptr);
    return geos_->test(GEOSGeom_createCollection_r(ctx, GEOS_MULTIPOLYGON, polygons.data(), static_cast<unsigned>(polygons.size())), box);
}

} // namespace skyscript::osm
