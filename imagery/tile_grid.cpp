#include "imagery/tile_grid.hpp"

#include "imagery/utm_projection.hpp"

#include <proj.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <stdexcept>

namespace skyscript::imagery {

namespace {

// Our copy of PROJ's arithmetic for a UTM zone (utm_projection.hpp), when the PROJ here
// does exactly what it copies: PROJ 9.1.1, the pipeline it was copied from, and the same bits
// on a probe of points and tiles across the zone (a proj.ini choosing another transverse
// Mercator algorithm differs on nearly every point).
std::optional<UtmProjection> exact_copy(PJ_CONTEXT* ctx, PJ* pj, int epsg) {
    auto utm = UtmProjection::of_epsg(epsg);
    if (!utm) return std::nullopt;
    const auto version = proj_info();
    if (version.major != 9 || version.minor != 1 || version.patch != 1) return std::nullopt;
    const int zone = epsg % 100;
    const bool south = epsg > 32700;
    const std::string expected = "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=utm zone=" + std::to_string(zone) +
                                 (south ? " south" : "") + " ellps=WGS84";
    const auto info = proj_pj_info(pj);
    if (!info.definition || expected != info.definition) return std::nullopt;
    const auto same = [](double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); };
    const double meridian = zone * 6 - 183.0;
    for (int i = 0; i <= 40; ++i)
        for (int j = 0; j <= 40; ++j) {
            const double lon = meridian - 14.3 + i * 0.71, lat = -89.9 + j * 4.49;
            const PJ_COORD p = proj_trans(pj, PJ_FWD, proj_coord(lon, lat, 0, 0));
            double x, y;
            utm->forward(lon, lat, x, y);
            if (!same(p.xy.x, x) || !same(p.xy.y, y)) return std::nullopt;
            if (!std::isfinite(x)) continue;
            const PJ_COORD q = proj_trans(pj, PJ_INV, proj_coord(x + 0.37, y - 0.61, 0, 0));
            utm->inverse(x + 0.37, y - 0.61, x, y);
            if (!same(q.xy.x, x) || !same(q.xy.y, y)) return std::nullopt;
        }
    for (const double lat : {-79.9, -45.0, 0.001, 30.0, 83.9})
        for (const int densify : {2, 21}) {
            double x, y;
            utm->forward(meridian + 2.9, lat, x, y);
            const double side = densify == 2 ? 1200.5 : 31000.25;
            double a[4], b[4];
            if (!proj_trans_bounds(ctx, pj, PJ_INV, x - side, y - side, x, y, &a[0], &a[1], &a[2], &a[3], densify)) return std::nullopt;
            utm->inverse_bounds(x - side, y - side, x, y, densify, b[0], b[1], b[2], b[3]);
            for (int k = 0; k < 4; ++k)
                if (!same(a[k], b[k])) return std::nullopt;
        }
    return utm;
}

// A grid CRS: PROJ's transformation from lon/lat, and our copy of it where it is exact.
struct GridCrs {
    PJ* pj = nullptr;
    std::optional<UtmProjection> utm;
};

// PROJ objects are not thread-safe across threads: each thread keeps its own.
class ProjCache {
public:
    // PROJ's own log is silenced: it printed "proj_create: Cannot find proj.db" twice a job when
    // the real cause was no file descriptor left; ProjError's one line says what failed instead.
    ProjCache() : ctx_(proj_context_create()) { proj_log_func(ctx_, nullptr, [](void*, int, const char*) {}); }
    ~ProjCache() {
        for (auto& [epsg, crs] : to_grid_) proj_destroy(crs.pj);
        proj_context_destroy(ctx_);
    }
    const GridCrs& to_grid(int epsg) {
        if (last_ && last_epsg_ == epsg) return *last_; // the plan asks for one zone millions of times in a row
        auto it = to_grid_.find(epsg);
        if (it == to_grid_.end()) {
            PJ* raw = proj_create_crs_to_crs(ctx_, "EPSG:4326", ("EPSG:" + std::to_string(epsg)).c_str(), nullptr);
            if (!raw)
                throw ProjError("PROJ cannot make EPSG:4326 -> EPSG:" + std::to_string(epsg) + " (" + proj_context_errno_string(ctx_, proj_context_errno(ctx_)) +
                                "; proj.db unreadable? too many open files (ulimit -n, --in-flight) or too little memory)");
            PJ* norm = proj_normalize_for_visualization(ctx_, raw); // lon, lat order
            proj_destroy(raw);
            if (!norm) throw ProjError("PROJ cannot normalise EPSG:" + std::to_string(epsg));
            GridCrs crs{norm, std::nullopt};
            if (!std::getenv("SKYSCRIPT_PROJ_ONLY")) crs.utm = exact_copy(ctx_, norm, epsg);
            it = to_grid_.emplace(epsg, std::move(crs)).first;
        }
        last_epsg_ = epsg;
        return *(last_ = &it->second);
    }
    PJ_CONTEXT* ctx() const { return ctx_; }

private:
    PJ_CONTEXT* ctx_;
    std::map<int, GridCrs> to_grid_;
    int last_epsg_ = 0;
    const GridCrs* last_ = nullptr;
};

ProjCache& proj_cache() {
    thread_local ProjCache cache;
    return cache;
}

void transform(int epsg, PJ_DIRECTION dir, double a, double b, double& x, double& y) {
    const auto& crs = proj_cache().to_grid(epsg);
    if (crs.utm) {
        if (dir == PJ_FWD) crs.utm->forward(a, b, x, y);
        else crs.utm->inverse(a, b, x, y);
    } else {
        const PJ_COORD r = proj_trans(crs.pj, dir, proj_coord(a, b, 0, 0));
        x = r.xy.x;
        y = r.xy.y;
    }
    if (!std::isfinite(x) || !std::isfinite(y))
        throw std::runtime_error("PROJ could not transform (" + std::to_string(a) + ", " + std::to_string(b) + ") for EPSG:" + std::to_string(epsg));
}

} // namespace

bool exact_utm_copy_in_use(int epsg) { return proj_cache().to_grid(epsg).utm.has_value(); }

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
    // Compared as a double before it is an int: 4,294,967,796 m at 1 m had wrapped to a 500 px
    // tile, and 1e308 m to "smaller than one pixel" (red-team round 37).
    const double px = std::round(side_m / gsd);
    if (!(px <= 32768)) {
        char text[64];
        std::snprintf(text, sizeof text, px < 1e15 ? "%.0f" : "%.3g", px);
        throw std::invalid_argument(std::string("tile of ") + (std::isfinite(px) ? text : "over 10^308") + " px a side is over 32,768 px");
    }
    g.width = g.height = static_cast<int>(px);
    if (g.width < 1) throw std::invalid_argument("tile side is smaller than one pixel");
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
    const auto& crs = proj_cache().to_grid(g.epsg);
    if (crs.utm) crs.utm->inverse_bounds(x0, y0 - 2 * half, x0 + 2 * half, y0, densify, w, s, e, n);
    else if (!proj_trans_bounds(proj_cache().ctx(), crs.pj, PJ_INV, x0, y0 - 2 * half, x0 + 2 * half, y0, &w, &s, &e, &n, densify))
        throw std::runtime_error("PROJ could not compute the lon/lat bounds of the tile");
    g.box = {w, s, e, n};
    return g;
}

} // namespace skyscript::imagery
