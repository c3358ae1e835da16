#pragma once
// GEOS 3.11's rectangle clip of polygons (GEOSClipByRect: RectangleIntersection::
// clip_polygon_to_polygons and RectangleIntersectionBuilder's reconnect, reverseLines and
// reconnectPolygons) on plain coordinates, step for step: the same polygons in the same order,
// point for point, with none of GEOS's geometry objects (a named area crossing its tile's edge
// was clipped twice, in lon/lat and in pixels, making and freeing a dozen objects each time).

#include "pipeline/plan/rect_clip.hpp"

#include <cstddef>
#include <vector>

namespace skyscript::pipeline {

// Polygons as GEOS holds them: rings of points (x y x y ..., closed), polygon by polygon, the
// shell first, then its holes.
struct PlanePolygons {
    std::vector<double> xy;
    std::vector<std::size_t> ring_ends;    // where each ring ends in xy (in doubles)
    std::vector<std::size_t> polygon_ends; // where each polygon's rings end (in rings)

    void clear() { xy.clear(), ring_ends.clear(), polygon_ends.clear(); }
    std::size_t rings() const { return ring_ends.size(); }
    std::size_t ring_begin(std::size_t r) const { return r ? ring_ends[r - 1] : 0; }
    std::size_t ring_points(std::size_t r) const { return (ring_ends[r] - ring_begin(r)) / 2; }
    const double* ring(std::size_t r) const { return xy.data() + ring_begin(r); }
    std::size_t polygon_begin(std::size_t p) const { return p ? polygon_ends[p - 1] : 0; }
    void add_ring(const double* begin, const double* end) {
        xy.insert(xy.end(), begin, end);
        ring_ends.push_back(xy.size());
    }
    void end_polygon() { polygon_ends.push_back(ring_ends.size()); }
};

// Polygons to clip, as views of rings held elsewhere; a ring may carry the boxes of its runs of
// IndexedPath::run segments (IndexedPath::runs), which let the clip skip a long ring's runs
// that cannot change its answer (a forest's thousands of points, for every tile it crosses).
struct PolygonsView {
    struct Ring {
        const double* xy;
        std::size_t n; // points
        const std::vector<PlaneRect>* runs = nullptr;
    };
    std::vector<Ring> rings;
    std::vector<std::size_t> polygon_ends; // in rings

    // Views of p's rings, in this view's own buffers (kept: a clip a tile, reused).
    void view(const PlanePolygons& p) {
        rings.clear();
        for (std::size_t r = 0; r < p.rings(); ++r) rings.push_back({p.ring(r), p.ring_points(r)});
        polygon_ends = p.polygon_ends;
    }
    static PolygonsView of(const PlanePolygons& p) {
        PolygonsView v;
        v.view(p);
        return v;
    }
};

// `in` clipped to `r` as GEOSClipByRect clips it: into `out` (cleared first), the polygons of
// GEOS's result in its order. False where GEOS would throw (a ring under 4 points, a broken
// reconnection) or where its orientation filter cannot tell what GEOS's exact arithmetic
// would: the caller then asks GEOS.
bool clip_polygons(const PolygonsView& in, const PlaneRect& r, PlanePolygons& out);
inline bool clip_polygons(const PlanePolygons& in, const PlaneRect& r, PlanePolygons& out) { return clip_polygons(PolygonsView::of(in), r, out); }

// GEOS's area of such polygons (Polygon::getArea, summed as GeometryCollection::getArea).
double polygons_area(const PlanePolygons& p);

} // namespace skyscript::pipeline
