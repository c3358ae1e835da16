#pragma once
// Where an object's tile goes and how big it is (docs/sampling.md): points and lines get
// `point_tile_px` pixels a side, centred on the point or on a seeded vertex of the line;
// areas a square of their bbox's long side plus `margin`. The centre then moves by a
// seeded offset of up to `offset` of the side in each axis, never so far that the focus
// object (the point, the vertex, the area's bbox) leaves the tile. The grid is the UTM
// zone of the final centre (imagery/tile_grid).

#include "imagery/tile_grid.hpp"
#include "osm/catalog_row.hpp"
#include "pipeline/common/build_options.hpp"

#include <cstdint>
#include <vector>

#include <optional>
#include <utility>

namespace skyscript::pipeline {

struct PlacementOptions {
    std::uint64_t seed = 1;
    int point_tile_px = 384;
    int min_px = 100, max_px = 1000;
    double margin = 0.1;
    double offset = 0.2;
};

// What placement needs of a focus object, measured once for all sources.
struct FocusGeometry {
    char kind = 'n';
    std::uint64_t key = 0;     // object_key
    double lon = 0, lat = 0;   // the point, the chosen vertex, or the area's bbox centre
    double extent_x_m = 0, extent_y_m = 0; // areas: the bbox in metres (UTM of the centre)
};

// Which of a line's `vertices` (> 0) its tile is centred on: a seeded draw by object.
std::size_t focus_vertex(std::uint64_t seed, std::uint64_t key, std::size_t vertices);

// The object's offset of its tile centre in x and y (east, north) as shares in [-1, 1) of
// the largest offset allowed: seeded by the object alone.
std::pair<double, double> offset_shares(std::uint64_t seed, std::uint64_t key);

// An object of `kind` (n, w, a) with `key` (object_key), its representative point and bbox.
// `line_vertices` is only read for lines (a seeded vertex becomes the centre).
FocusGeometry measure_focus(char kind, std::uint64_t key, double rep_lon, double rep_lat, const osm::Box& bbox,
                            const std::vector<osm::Point>& line_vertices, std::uint64_t seed);

// --seed, --point-tile-px, --min-px, --max-px, --margin and --offset, checked.
PlacementOptions placement_options(const BuildOptions& options);

// Side of the tile in pixels for this GSD, before the [min_px, max_px] check.
long tile_side_px(const FocusGeometry& focus, double gsd, const PlacementOptions& options);

// The tile grid for a source of this GSD (side_px from tile_side_px).
imagery::TileGrid place_tile(const FocusGeometry& focus, double gsd, long side_px, const PlacementOptions& options);

} // namespace skyscript::pipeline
