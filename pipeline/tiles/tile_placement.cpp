#include "pipeline/tiles/tile_placement.hpp"

#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/seeded_hash.hpp"

#include <algorithm>
#include <cmath>

namespace skyscript::pipeline {

std::size_t focus_vertex(std::uint64_t seed, std::uint64_t key, std::size_t vertices) {
    return static_cast<std::size_t>(seeded_hash(seed, label_hash("vertex"), key) % vertices);
}

std::pair<double, double> offset_shares(std::uint64_t seed, std::uint64_t key) {
    return {2 * unit_interval(seeded_hash(seed, label_hash("offset-x"), key)) - 1, 2 * unit_interval(seeded_hash(seed, label_hash("offset-y"), key)) - 1};
}

FocusGeometry measure_focus(char kind, std::uint64_t key, double rep_lon, double rep_lat, const osm::Box& bbox,
                            const std::vector<osm::Point>& line_vertices, std::uint64_t seed) {
    FocusGeometry g;
    g.kind = kind;
    g.key = key;
    g.lon = rep_lon;
    g.lat = rep_lat;
    if (kind == 'w' && !line_vertices.empty()) {
        const auto i = focus_vertex(seed, g.key, line_vertices.size());
        g.lon = line_vertices[i].lon;
        g.lat = line_vertices[i].lat;
    } else if (kind == 'a') {
        // The bbox in metres, in the UTM zone of its centre: its four corners projected.
        const int epsg = imagery::utm_epsg_for((bbox.min_lon + bbox.max_lon) / 2, (bbox.min_lat + bbox.max_lat) / 2);
        double xs[4], ys[4];
        const double lons[4] = {bbox.min_lon, bbox.max_lon, bbox.max_lon, bbox.min_lon};
        const double lats[4] = {bbox.min_lat, bbox.min_lat, bbox.max_lat, bbox.max_lat};
        for (int i = 0; i < 4; ++i) imagery::lonlat_to_grid(epsg, lons[i], lats[i], xs[i], ys[i]);
        const double x0 = *std::min_element(xs, xs + 4), x1 = *std::max_element(xs, xs + 4);
        const double y0 = *std::min_element(ys, ys + 4), y1 = *std::max_element(ys, ys + 4);
        g.extent_x_m = x1 - x0;
        g.extent_y_m = y1 - y0;
        imagery::grid_to_lonlat(epsg, (x0 + x1) / 2, (y0 + y1) / 2, g.lon, g.lat);
    }
    return g;
}

long tile_side_px(const FocusGeometry& g, double gsd, const PlacementOptions& o) {
    if (g.kind != 'a') return o.point_tile_px;
    return std::lround(std::max(g.extent_x_m, g.extent_y_m) * (1 + o.margin) / gsd);
}

imagery::TileGrid place_tile(const FocusGeometry& g, double gsd, long side_px, const PlacementOptions& o) {
    const double side = static_cast<double>(side_px) * gsd;
    // Seeded by the object alone: an unchanged object asks for the same tile in a rebuild.
    const auto [ux, uy] = offset_shares(o.seed, g.key);
    double limit_x = o.offset * side, limit_y = o.offset * side;
    if (g.kind == 'a') { // the whole bbox stays inside
        limit_x = std::min(limit_x, std::max(0.0, (side - g.extent_x_m) / 2));
        limit_y = std::min(limit_y, std::max(0.0, (side - g.extent_y_m) / 2));
    } else { // the point (or vertex) stays inside, a pixel from the edge
        limit_x = limit_y = std::min(limit_x, std::max(0.0, side / 2 - gsd));
    }
    const int epsg = imagery::utm_epsg_for(g.lon, g.lat);
    double x = 0, y = 0, lon = 0, lat = 0;
    imagery::lonlat_to_grid(epsg, g.lon, g.lat, x, y);
    imagery::grid_to_lonlat(epsg, x + ux * limit_x, y + uy * limit_y, lon, lat);
    return imagery::make_tile_grid(lon, lat, side, gsd);
}

PlacementOptions placement_options(const BuildOptions& options) {
    PlacementOptions placement;
    placement.seed = static_cast<std::uint64_t>(options.integer("seed"));
    placement.point_tile_px = static_cast<int>(options.integer("point-tile-px"));
    placement.min_px = static_cast<int>(options.integer("min-px"));
    placement.max_px = static_cast<int>(options.integer("max-px"));
    placement.margin = options.number("margin");
    placement.offset = options.number("offset");
    if (placement.point_tile_px < 1 || placement.min_px < 1 || placement.max_px < 1)
        throw UsageError("--point-tile-px, --min-px and --max-px must be positive");
    // Led by --min-px: a config file's line is named for it (BuildOptions::with_origin).
    if (placement.max_px < placement.min_px)
        throw UsageError("--min-px " + std::to_string(placement.min_px) + " is more than --max-px " + std::to_string(placement.max_px) +
                         ": an area's tile side lies between them");
    if (placement.offset < 0 || placement.offset > 0.5) throw UsageError("--offset must be within 0..0.5 (a share of the tile side)");
    if (placement.margin < 0) throw UsageError("--margin must be >= 0");
    return placement;
}

} // namespace skyscript::pipeline
