#pragma once
// WGS 84 lon/lat <-> a UTM zone (EPSG:326zz, 327zz) as PROJ 9.1.1 computes it, bit for bit:
// the steps of the pipeline PROJ makes for EPSG:4326 -> UTM after
// proj_normalize_for_visualization (unitconvert deg -> rad, then utm with the Poder/Engsager
// "exact" transverse Mercator, and PROJ's prepare/finalize arithmetic around each step), and of
// proj_trans_bounds for its inverse. The plan projects millions of vertices and a tile's
// bounds per job; PROJ's pipeline, error bookkeeping and CRS look-ups cost more than the
// arithmetic (proj_trans_bounds asks the CRS its axis order on every call).
//
// Only valid where the PROJ at run time does exactly this: tile_grid.cpp uses it when PROJ is
// 9.1.1, the pipeline's definition is the one copied here and a probe of points agrees with
// PROJ bit for bit (a proj.ini choosing another tmerc algorithm fails the probe); otherwise
// PROJ itself. test_utm_projection compares both on millions of points and tiles.

#include <optional>

namespace skyscript::imagery {

class UtmProjection {
public:
    // zone 1..60; south: the 10,000 km false northing.
    UtmProjection(int zone, bool south);
    // EPSG:32601..32660 and 32701..32760; nullopt for any other code.
    static std::optional<UtmProjection> of_epsg(int epsg);

    // Degrees <-> metres; HUGE_VAL in both outputs where PROJ reports an error.
    void forward(double lon, double lat, double& x, double& y) const;
    void inverse(double x, double y, double& lon, double& lat) const;

    // proj_trans_bounds(PJ_INV) of the grid box [xmin, xmax] x [ymin, ymax] with `densify`
    // points an edge (PROJ 9.1.1's densified ring, pole tests and antimeridian rule); west > east
    // when the box crosses the antimeridian.
    void inverse_bounds(double xmin, double ymin, double xmax, double ymax, int densify, double& west, double& south,
                        double& east, double& north) const;

private:
    double lam0_ = 0, y0_ = 0;
    double qn_ = 0, zb_ = 0;
    double cgb_[6]{}, cbg_[6]{}, utg_[6]{}, gtu_[6]{};
    double north_pole_x_ = 0, north_pole_y_ = 0, south_pole_x_ = 0, south_pole_y_ = 0; // the poles in the grid
};

} // namespace skyscript::imagery
