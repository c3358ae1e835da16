#include "imagery/mercator_resampler.hpp"


#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <numbers>
#include <vector>

namespace skyscript::imagery {

namespace {

constexpr double earth_radius = 6378137.0;
constexpr int lattice_step = 32; // output pixels between exactly projected points

// A run of `n` output pixels along a lattice cell, whose source position starts at (px, py)
// and moves by (step_x, step_y) a pixel, sampled bilinearly from an all-valid mosaic of
// mw x mh px: in 16.16 fixed point, with no test a pixel, when the run's first and last
// positions (so all between: the path is straight) have their four neighbours inside the
// mosaic. False, and nothing written, otherwise. The weights are those of the per-pixel
// path to within 1/256 (the step rounded to 1/65536 px), so the images agree to JPEG noise.
bool dense_run(double px, double py, double step_x, double step_y, int n, int mw, int mh, const std::uint8_t* src, std::uint8_t* dst) {
    constexpr double one = 65536;
    if (!(px >= 0 && py >= 0 && px < mw && py < mh)) return false;
    std::int64_t fx = std::llround(px * one), fy = std::llround(py * one);
    const std::int64_t dx = std::llround(step_x * one), dy = std::llround(step_y * one);
    const std::int64_t lx = fx + dx * (n - 1), ly = fy + dy * (n - 1);
    const auto in = [&](std::int64_t x, std::int64_t y) { return x >= 0 && y >= 0 && (x >> 16) + 1 < mw && (y >> 16) + 1 < mh; };
    if (!in(fx, fy) || !in(lx, ly)) return false;
    const std::size_t row = static_cast<std::size_t>(mw) * 3;
    for (int i = 0; i < n; ++i, fx += dx, fy += dy) {
        const int x0 = static_cast<int>(fx >> 16), y0 = static_cast<int>(fy >> 16);
        const int wx = static_cast<int>((fx >> 8) & 255), wy = static_cast<int>((fy >> 8) & 255);
        const std::uint8_t* p0 = src + (static_cast<std::size_t>(y0) * mw + x0) * 3;
        const std::uint8_t* p1 = p0 + row;
        for (int ch = 0; ch < 3; ++ch) {
            const int top = p0[ch] * (256 - wx) + p0[ch + 3] * wx;
            const int bottom = p1[ch] * (256 - wx) + p1[ch + 3] * wx;
            dst[i * 3 + ch] = static_cast<std::uint8_t>((top * (256 - wy) + bottom * wy + 32768) >> 16);
        }
    }
    return true;
}

} // namespace

MercatorLattice mercator_lattice(const double gt[6], int mosaic_width, const TileGrid& grid) {
    MercatorLattice l;
    const int w = grid.width, h = grid.height;
    l.lw = (w + lattice_step - 1) / lattice_step + 1, l.lh = (h + lattice_step - 1) / lattice_step + 1;
    // Source pixel coordinates (continuous, pixel centres at .5) of the lattice points.
    l.sx.resize(static_cast<std::size_t>(l.lw) * l.lh), l.sy.resize(l.sx.size());
    // A mosaic across the antimeridian runs on east of +180° (its columns continue past
    // the last tile column into the first ones): each point's x is taken in the world
    // copy nearest the mosaic's centre, so -179.99° lands east of 179.99°, not 40,000 km west.
    const double world = 2 * std::numbers::pi * earth_radius;
    const double mosaic_center_x = gt[0] + gt[1] * mosaic_width / 2.0;
    for (int j = 0; j < l.lh; ++j) {
        for (int i = 0; i < l.lw; ++i) {
            // Lattice points every `lattice_step` pixel edges; the last ones may lie past the tile.
            const double x = grid.geotransform[0] + double(i * lattice_step) * grid.gsd;
            const double y = grid.geotransform[3] - double(j * lattice_step) * grid.gsd;
            double lon, lat;
            grid_to_lonlat(grid.epsg, x, y, lon, lat);
            double mx = earth_radius * lon * std::numbers::pi / 180;
            mx += world * std::round((mosaic_center_x - mx) / world);
            const double my = earth_radius * std::log(std::tan(std::numbers::pi / 4 + lat * std::numbers::pi / 360));
            l.sx[static_cast<std::size_t>(j) * l.lw + i] = (mx - gt[0]) / gt[1];
            l.sy[static_cast<std::size_t>(j) * l.lw + i] = (my - gt[3]) / gt[5];
        }
    }
    return l;
}

int lattice_band_rows() { return lattice_step; }

std::pair<int, int> lattice_source_rows(const MercatorLattice& l, int row_begin, int row_end) {
    // Positions inside a lattice cell are convex combinations of its corners': the corners of
    // the cells these rows use bound every row they sample.
    const int j0 = std::min(row_begin / lattice_step, l.lh - 2), j1 = std::min((row_end - 1) / lattice_step, l.lh - 2) + 1;
    double lo = l.sy[static_cast<std::size_t>(j0) * l.lw], hi = lo;
    for (int j = j0; j <= j1; ++j)
        for (int i = 0; i < l.lw; ++i) {
            const double v = l.sy[static_cast<std::size_t>(j) * l.lw + i];
            lo = std::min(lo, v), hi = std::max(hi, v);
        }
    // Pixel centres sit at .5 and a sample reads the row below its own: a row of margin each side.
    return {static_cast<int>(std::floor(lo)) - 2, static_cast<int>(std::ceil(hi)) + 2};
}

void resample_mercator_rows(const MercatorLattice& lattice, const RgbImage& mosaic, int first_row, bool all_valid, int row_begin, int row_end,
                            RgbImage& band) {
    const int w = band.width;
    const int lw = lattice.lw, lh = lattice.lh;
    const auto& sx = lattice.sx;
    const auto& sy = lattice.sy;
    const double dy = first_row; // the window's rows start at this mosaic row
    const int mw = mosaic.width, mh = mosaic.height;
    const std::uint8_t* src = mosaic.rgb.data();
    const std::uint8_t* ok = mosaic.valid.data();
    for (int y = row_begin; y < row_end; ++y) {
        const int cj = std::min(y / lattice_step, lh - 2);
        const double fy = (y + 0.5 - cj * lattice_step) / lattice_step;
        std::uint8_t* dst = band.rgb.data() + static_cast<std::size_t>(y - row_begin) * w * 3;
        std::uint8_t* dst_ok = band.valid.data() + static_cast<std::size_t>(y - row_begin) * w;
        for (int ci = 0; ci + 1 < lw && ci * lattice_step < w; ++ci) {
            // Along a lattice cell the source position moves linearly: start and step.
            const std::size_t a = static_cast<std::size_t>(cj) * lw + ci, b = a + 1, c = a + lw, d = c + 1;
            const double left_x = (1 - fy) * sx[a] + fy * sx[c], right_x = (1 - fy) * sx[b] + fy * sx[d];
            const double left_y = (1 - fy) * sy[a] + fy * sy[c] - dy, right_y = (1 - fy) * sy[b] + fy * sy[d] - dy;
            const double step_x = (right_x - left_x) / lattice_step, step_y = (right_y - left_y) / lattice_step;
            double px = left_x + 0.5 * step_x - 0.5, py = left_y + 0.5 * step_y - 0.5; // pixel centre, index space
            const int x_begin = ci * lattice_step, x_end = std::min(w, (ci + 1) * lattice_step);
            if (all_valid && dense_run(px, py, step_x, step_y, x_end - x_begin, mw, mh, src, dst + x_begin * 3)) {
                std::memset(dst_ok + x_begin, 1, static_cast<std::size_t>(x_end - x_begin));
                continue;
            }
            for (int x = x_begin; x < x_end; ++x, px += step_x, py += step_y) {
                const int x0 = static_cast<int>(std::floor(px)), y0 = static_cast<int>(std::floor(py));
                const std::size_t s00 = static_cast<std::size_t>(y0) * mw + x0;
                if (x0 >= 0 && y0 >= 0 && x0 + 1 < mw && y0 + 1 < mh && (all_valid || (ok[s00] && ok[s00 + 1] && ok[s00 + mw] && ok[s00 + mw + 1]))) {
                    // Fast path: 8-bit fixed-point weights.
                    const int wx = static_cast<int>((px - x0) * 256), wy = static_cast<int>((py - y0) * 256);
                    const std::uint8_t* p0 = src + s00 * 3;
                    const std::uint8_t* p1 = p0 + static_cast<std::size_t>(mw) * 3;
                    for (int ch = 0; ch < 3; ++ch) {
                        const int top = p0[ch] * (256 - wx) + p0[ch + 3] * wx;
                        const int bottom = p1[ch] * (256 - wx) + p1[ch + 3] * wx;
                        dst[x * 3 + ch] = static_cast<std::uint8_t>((top * (256 - wy) + bottom * wy + 32768) >> 16);
                    }
                    dst_ok[x] = 1;
                    continue;
                }
                // Edges of the data: weight the valid neighbours only.
                const double tx = px - x0, ty = py - y0;
                double acc[3] = {0, 0, 0}, weight = 0;
                for (int k = 0; k < 4; ++k) {
                    const int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                    if (xx < 0 || yy < 0 || xx >= mw || yy >= mh) continue;
                    const std::size_t si = static_cast<std::size_t>(yy) * mw + xx;
                    if (!ok[si]) continue;
                    const double wgt = ((k & 1) ? tx : 1 - tx) * ((k >> 1) ? ty : 1 - ty);
                    for (int ch = 0; ch < 3; ++ch) acc[ch] += wgt * src[si * 3 + ch];
                    weight += wgt;
                }
                if (weight <= 1e-9) continue;
                dst_ok[x] = 1;
                for (int ch = 0; ch < 3; ++ch) dst[x * 3 + ch] = static_cast<std::uint8_t>(acc[ch] / weight + 0.5);
            }
        }
    }
}

} // namespace skyscript::imagery
