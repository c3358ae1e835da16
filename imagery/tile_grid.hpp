#pragma once
// The pixel grid of one tile (docs/sampling.md): a square of `side_m` metres centred on
// a lon/lat point, in the UTM zone of the centre (UPS beyond 84°N / 80°S), with square
// pixels of `gsd` metres: width = height = round(side_m / gsd).

#include "imagery/local_resource_error.hpp"

#include <string>

namespace skyscript::imagery {

// PROJ could not make a transformation: its database (proj.db) unread for want of file
// descriptors or memory, a machine's state, not a job's. A fetch stops on it (the jobs stay
// planned for the rerun) rather than failing every job with it for good.
class ProjError : public LocalResourceError {
public:
    using LocalResourceError::LocalResourceError;
};

// Tile bounds in degrees. When the tile crosses the antimeridian, west > east
// (the RFC 7946 convention).
struct LonLatBox {
    double west, south, east, north;
    bool crosses_antimeridian() const noexcept { return west > east; }
    // The longitude halfway from west to east, eastwards (across 180 degrees when west > east).
    double center_lon() const noexcept {
        if (!crosses_antimeridian()) return (west + east) / 2;
        const double lon = (west + east + 360) / 2;
        return lon >= 180 ? lon - 360 : lon;
    }
    bool operator==(const LonLatBox&) const = default;
};

struct TileGrid {
    int epsg = 0;            // 326zz / 327zz UTM, 32661 / 32761 UPS
    int width = 0, height = 0;
    double gsd = 0;          // metres per pixel
    double geotransform[6]{}; // GDAL order: x0, gsd, 0, y0, 0, -gsd
    LonLatBox box{};         // lon/lat bounds of the whole tile
    double center_x = 0, center_y = 0; // projected centre

    std::string crs() const { return "EPSG:" + std::to_string(epsg); }
};

// EPSG code of the UTM (or UPS) zone that contains lon/lat.
int utm_epsg_for(double lon, double lat);

// Throws std::invalid_argument for a centre out of range, a non-positive side or GSD,
// or a tile over 32,768 px a side.
TileGrid make_tile_grid(double lon, double lat, double side_m, double gsd);

// lon/lat <-> grid CRS, through PROJ (one context and transformation cache per thread), or
// for a UTM zone through our copy of PROJ 9.1.1's arithmetic where it gives PROJ's bits
// (utm_projection.hpp). SKYSCRIPT_PROJ_ONLY=1 in the environment leaves everything to PROJ
// (to compare the two).
void lonlat_to_grid(int epsg, double lon, double lat, double& x, double& y);
void grid_to_lonlat(int epsg, double x, double y, double& lon, double& lat);
// Whether the copy serves this EPSG code in this thread (the plan's tests check it does here).
bool exact_utm_copy_in_use(int epsg);

} // namespace skyscript::imagery
