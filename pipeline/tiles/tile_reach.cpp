#include "pipeline/tiles/tile_reach.hpp"

#include "pipeline/common/seeded_hash.hpp"
#include "tag_filters/visible_tags.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace skyscript::pipeline {

namespace {

constexpr double metres_per_degree_lat = 110574;  // the fewest, at the equator
constexpr double metres_per_degree_lon = 111320;  // at the equator; times cos(lat), fewer than the ellipsoid's
// UTM's scale (< 1.001 within a zone) and rotation: the lon/lat box of a square turned by
// the grid convergence (< 3.5 degrees a zone's half width from its meridian) is up to 1.07
// times wider.
constexpr double grid_slack = 1.15;
// North of 84 and south of -80 degrees the grid is polar stereographic (imagery/tile_grid):
// a tile there is turned against the meridians by up to 180 degrees.
constexpr double polar_north = 84, polar_south = -80;
// The planner's boxes come from the R*Tree's floats, rounded outwards (< 2 m).
constexpr double float_slack_m = 5;

double cos_deg(double deg) { return std::cos(deg * std::numbers::pi / 180); }

// The box from `centre` west..east and south..north metres (signed, west and south < 0).
osm::Box around(const osm::Point& centre, double west, double east, double south, double north) {
    const auto grow = [](double m) { return m * grid_slack + (m < 0 ? -float_slack_m : float_slack_m); };
    osm::Box b{centre.lon, std::max(-90.0, centre.lat + grow(south) / metres_per_degree_lat), centre.lon,
               std::min(90.0, centre.lat + grow(north) / metres_per_degree_lat)};
    const double c = cos_deg(std::max(std::abs(b.min_lat), std::abs(b.max_lat)));
    if (c < 0.01) return {-180, b.min_lat, 180, b.max_lat};
    b.min_lon += grow(west) / (metres_per_degree_lon * c);
    b.max_lon += grow(east) / (metres_per_degree_lon * c);
    if (b.max_lon - b.min_lon >= 360) b.min_lon = -180, b.max_lon = 180;
    return b;
}

// Whether a tile of up to `side` metres around `box` may lie in a polar grid.
bool may_be_polar(const osm::Box& box, double side) {
    const double d = 2 * side * grid_slack / metres_per_degree_lat + 0.01;
    return box.max_lat + d > polar_north || box.min_lat - d < polar_south;
}

// A tile that holds `box` and is at most `side` a side, turned any way: within its diagonal
// of the box, north and south; every longitude (so few objects lie there).
osm::Box polar_reach(const osm::Box& box, double side) {
    const double d = (side * std::numbers::sqrt2 * grid_slack + float_slack_m) / metres_per_degree_lat;
    return {-180, std::max(-90.0, box.min_lat - d), 180, std::min(90.0, box.max_lat + d)};
}

} // namespace

std::optional<osm::Box> tile_reach(const osm::CatalogRow& head, std::span<const osm::Point> vertices, const PlacementOptions& o,
                                   double coarsest_source_gsd) {
    const double max_gsd = tags::coarsest_shown_gsd(head.max_gsd, coarsest_source_gsd);
    const double gsd = max_gsd * (1 + 1e-5); // the coarsest source the focus tag allows (tags::shown_at_gsd)
    const auto key = object_key(head.osm_type, head.osm_id);
    // The tile is a square of side s centred on c moved by (ux, uy) x at most offset x s (in
    // UTM metres; tile_placement.cpp): at any GSD up to max_gsd it lies within
    // [min(ux * offset, 0) s - s/2, max(ux * offset, 0) s + s/2] of c in x, and so in y.
    osm::Point c{head.rep_lon, head.rep_lat};
    double s = 0, spare = gsd; // spare: the side's rounding to whole pixels
    if (head.kind != 'a') {
        // Points and lines: point_tile_px x GSD, on the point or the line's seeded vertex.
        if (head.kind == 'w' && !vertices.empty()) c = vertices[focus_vertex(o.seed, key, vertices.size())];
        s = o.point_tile_px * gsd;
        if (may_be_polar({c.lon, c.lat, c.lon, c.lat}, s)) return polar_reach({c.lon, c.lat, c.lon, c.lat}, s + gsd);
    } else {
        // Areas: the long side of the bbox (in UTM metres) x (1 + margin), at most max_px
        // pixels, else no tile. The UTM long side is below the bbox's in degrees at its
        // widest latitude, plus a tenth (UTM turns a box at a zone's edge); above its height
        // (or its width at its most poleward latitude), less a hundredth.
        const auto& b = head.bbox;
        const double widest = b.min_lat <= 0 && b.max_lat >= 0 ? 0 : std::min(std::abs(b.min_lat), std::abs(b.max_lat));
        const double poleward = std::max(std::abs(b.min_lat), std::abs(b.max_lat));
        const double w = (b.max_lon - b.min_lon) * metres_per_degree_lon * 1.0034 * cos_deg(widest);
        const double h = (b.max_lat - b.min_lat) * 111700;
        double most = 1.1 * (std::max(w, h) + 0.1 * std::min(w, h));
        double least = 0.99 * std::max((b.max_lat - b.min_lat) * metres_per_degree_lat,
                                       (b.max_lon - b.min_lon) * metres_per_degree_lon * cos_deg(poleward));
        // In a polar grid the box is turned: its long side there is up to w + h, at least
        // the larger over the square root of two.
        const bool polar = may_be_polar(b, (o.max_px + 1) * gsd);
        if (polar) most = 1.1 * (w + h), least /= std::numbers::sqrt2;
        if (polar && b.max_lon - b.min_lon > 90) least = 0; // round a pole, a parallel's arc is far longer than the box
        if (least * (1 + o.margin) / max_gsd > o.max_px + 1) return std::nullopt;
        s = std::min(most * (1 + o.margin) + gsd, (o.max_px + 1) * gsd);
        if (polar) return polar_reach(b, s + gsd);
        // The centre: the UTM centre of the bbox's corners, near the lon/lat centre.
        c = {(b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2};
        spare += 0.05 * most;
    }
    const auto [ux, uy] = offset_shares(o.seed, key);
    const double shift_x = ux * o.offset * s, shift_y = uy * o.offset * s;
    return around(c, std::min(shift_x, 0.0) - s / 2 - spare, std::max(shift_x, 0.0) + s / 2 + spare, std::min(shift_y, 0.0) - s / 2 - spare,
                  std::max(shift_y, 0.0) + s / 2 + spare);
}

} // namespace skyscript::pipeline
