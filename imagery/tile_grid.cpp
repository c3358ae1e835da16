#include "imagery/tile_grid.hpp"


#include <proj.h>

#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>

namespace skyscript::imagery {

namespace {

// PROJ objects are not thread-safe across threads: each thread keeps its own.
class ProjCache {
public:
    ProjCache() : ctx_(proj_context_create()) {}
    ~ProjCache() {
        for (auto& [epsg, pj] : to_grid_) proj_destroy(pj);
        proj_context_destroy(ctx_);
    }
    PJ* to_grid(int epsg) {
        auto it = to_grid_.find(epsg);
        if (it != to_grid_.end()) return it->second;
        PJ* raw = proj_create_crs_to_crs(ctx_, "EPSG:4326", ("EPSG:" + std::to_string(epsg)).c_str(), nullptr);
        if (!raw) throw std::runtime_error("PROJ cannot make EPSG:4326 -> EPSG:" + std::to_string(epsg));
        PJ* norm = proj_normalize_for_visualization(ctx_, raw); // lon, lat order
        proj_destroy(raw);
        if (!norm) throw std::runtime_error("PROJ cannot normalise EPSG:" + std::to_string(epsg));
        return to_grid_[epsg] = norm;
    }
    PJ_CONTEXT* ctx() const { return ctx_; }

private:
    PJ_CONTEXT* ctx_;
    std::map<int, PJ*> to_grid_;
};

ProjCache& proj_cache() {
    thread_local ProjCache cache;
    return cache;
}

void transform(int epsg, PJ_DIRECTION dir, double a, double b, double& x, double& y) {
    PJ_COORD c = proj_coord(a, b, 0, 0);
    const PJ_COORD r = proj_trans(proj_cache().to_grid(epsg), dir, c);
    if (!std::isfinite(r.xy.x) || !std::isfinite(r.xy.y))
        throw std::runtime_error("PROJ could not transform (" + std::to_string(a) + ", " + std::to_string(b) + ") for EPSG:" + std::to_string(epsg));
    x = r.xy.x;
    y = r.xy.y;
}

} // namespace

int utm_epsg_for(double lon, double lat) {
    if (lat > 84) return 32661; // UPS north
    if (lat < -80) return 32761; // UPS south
    if (lon >= 180) return (lat >= 0 ? 32600 : 32700) + 60; // the antimeridian closes zone 60
    double l = std::fmod(lon + 180.0, 360.0);
    if (l < 0) l += 360;
    const int zone = std::min(60, static_cast<int>(std::floor(l / 6.0)) + 1);
    return (lat >= 0 ? 32600 : 32700) + zone;
}

void lonlat_to_grid(int epsg, double lon, double lat, double& x, double& y) { transform(epsg, PJ_FWD, lon, lat, x, y); }
void grid_to_lonlat(int epsg, double x, double y, double& lon, double& lat) { transform(epsg, PJ_INV, x, y, lon, lat); }

TileGrid make_tile_grid(double lon, double lat, double side_m, double gsd) {
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        throw std::invalid_argument("tile centre (" + std::to_string(lon) + ", " + std::to_string(lat) + ") is out of range");
    if (!(side_m > 0) || !(gsd > 0)) throw std::invalid_argument("tile side and GSD must be positive");
    TileGrid g;
    g.gsd = gsd;
    g.width = g.height = static_cast<int>(std::lround(side_m / gsd));
    if (g.width < 1) throw std::invalid_argument("tile side is smaller than one pixel");
    if (g.width > 32768) throw std::invalid_argument("tile of " + std::to_string(g.width) + " px a side is over 32,768 px");
    g.epsg = utm_epsg_for(lon, lat);
    lonlat_to_grid(g.epsg, lon, lat, g.center_x, g.center_y);
    const double half = g.width * gsd / 2;
    const double x0 = g.center_x - half, y0 = g.center_y + half;
    g.geotransform[0] = x0;
    g.geotransform[1] = gsd;
    g.geotransform[2] = 0;
    g.geotransform[3] = y0;
    g.geotransform[4] = 0;
    g.geotransform[5] = -gsd;

    // Bounds of the tile's densified edges; proj_trans_bounds reports antimeridian
    // crossings as west > east and includes a pole inside the tile. A UTM edge of a few km
    // is straight in lon/lat to well under a millimetre, so small tiles need only a
    // few points an edge (this call was a quarter of the planner's time at 21 points an edge).
    const int densify = 2 * half > 20000 ? 21 : 2; // PROJ needs 2 at least for a geographic result
    double w, s, e, n;
    if (!proj_trans_bounds(proj_cache().ctx(), proj_cache().to_grid(g.epsg), PJ_INV, x0, y0 - 2 * half, x0 + 2 * half, y0,
                           &w, &s, &e, &n, densify))
        throw std::runtime_error("PROJ could not compute the lon/lat bounds of the tile");
    g.box = {w, s, e, n};
    return g;
}

} // namespace skyscript::imagery
