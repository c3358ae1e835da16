#include "pipeline/plan/geos_arithmetic.hpp"

#include <cmath>

namespace skyscript::pipeline::geos_arithmetic {

int orientation(double ax, double ay, double bx, double by, double cx, double cy) {
    constexpr double safe_epsilon = 1e-15; // GEOS's DP_SAFE_EPSILON
    const double detleft = (ax - cx) * (by - cy);
    const double detright = (ay - cy) * (bx - cx);
    const double det = detleft - detright;
    const auto sign = [](double d) { return d > 0 ? 1 : d < 0 ? -1 : 0; };
    double detsum;
    if (detleft > 0.0) {
        if (detright <= 0.0) return sign(det);
        detsum = detleft + detright;
    } else if (detleft < 0.0) {
        if (detright >= 0.0) return sign(det);
        detsum = -detleft - detright;
    } else {
        return sign(det);
    }
    const double errbound = safe_epsilon * detsum;
    if (det >= errbound || -det >= errbound) return sign(det);
    return cannot_tell;
}

double point_to_segment(double px, double py, double ax, double ay, double bx, double by) {
    if (ax == bx && ay == by) return std::sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
    const double len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
    const double r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2;
    if (r <= 0.0) return std::sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay));
    if (r >= 1.0) return std::sqrt((px - bx) * (px - bx) + (py - by) * (py - by));
    const double s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2;
    return std::fabs(s) * std::sqrt(len2);
}

std::optional<bool> is_ccw(const double* xy, std::size_t n) {
    if (n < 4) return std::nullopt; // GEOS throws
    const std::size_t pts = n - 1;
    const auto X = [&](std::size_t i) { return xy[2 * i]; };
    const auto Y = [&](std::size_t i) { return xy[2 * i + 1]; };
    double up_hi_x = X(0), up_hi_y = Y(0), up_low_x = NAN, up_low_y = NAN;
    double prev_y = up_hi_y;
    std::size_t i_up_hi = 0;
    for (std::size_t i = 1; i <= pts; i++) {
        const double py = Y(i);
        if (py > prev_y && py >= up_hi_y) {
            i_up_hi = i;
            up_hi_x = X(i), up_hi_y = Y(i);
            up_low_x = X(i - 1), up_low_y = Y(i - 1);
        }
        prev_y = py;
    }
    if (i_up_hi == 0) return false;
    std::size_t i_down_low = i_up_hi;
    do {
        i_down_low = (i_down_low + 1) % pts;
    } while (i_down_low != i_up_hi && Y(i_down_low) == up_hi_y);
    const double down_low_x = X(i_down_low), down_low_y = Y(i_down_low);
    const std::size_t i_down_hi = i_down_low > 0 ? i_down_low - 1 : pts - 1;
    const double down_hi_x = X(i_down_hi), down_hi_y = Y(i_down_hi);
    const auto eq = [](double ax, double ay, double bx, double by) { return ax == bx && ay == by; };
    if (eq(up_hi_x, up_hi_y, down_hi_x, down_hi_y)) {
        if (eq(up_low_x, up_low_y, up_hi_x, up_hi_y) || eq(down_low_x, down_low_y, up_hi_x, up_hi_y) || eq(up_low_x, up_low_y, down_low_x, down_low_y))
            return false;
        const int o = orientation(up_low_x, up_low_y, up_hi_x, up_hi_y, down_low_x, down_low_y);
        if (o == cannot_tell) return std::nullopt;
        return o == 1;
    }
    const double del_x = down_hi_x - up_hi_x;
    return del_x < 0;
}

std::optional<Location> locate_in_ring(double x, double y, const double* xy, std::size_t n, const std::vector<PlaneRect>* runs) {
    constexpr std::size_t run = IndexedPath::run;
    int crossings = 0;
    for (std::size_t i = 1; i < n; i++) {
        if (runs && (i - 1) % run == 0 && (i - 1) / run < runs->size()) { // the run of segments i - 1 ...: passed over when none can count
            const auto& b = (*runs)[(i - 1) / run];
            if (b.x1 < x || b.y0 > y || b.y1 < y) {
                i += run - 1;
                continue;
            }
        }
        const double p1x = xy[2 * i - 2], p1y = xy[2 * i - 1], p2x = xy[2 * i], p2y = xy[2 * i + 1];
        if (p1x < x && p2x < x) continue;
        if (x == p2x && y == p2y) return Location::boundary;
        if (p1y == y && p2y == y) {
            double minx = p1x, maxx = p2x;
            if (minx > maxx) minx = p2x, maxx = p1x;
            if (x >= minx && x <= maxx) return Location::boundary;
            continue;
        }
        if ((p1y > y && p2y <= y) || (p2y > y && p1y <= y)) {
            int sign = orientation(p1x, p1y, p2x, p2y, x, y);
            if (sign == cannot_tell) return std::nullopt;
            if (sign == 0) return Location::boundary;
            if (p2y < p1y) sign = -sign;
            if (sign > 0) crossings++;
        }
    }
    return crossings % 2 == 1 ? Location::interior : Location::exterior;
}

} // namespace skyscript::pipeline::geos_arithmetic
