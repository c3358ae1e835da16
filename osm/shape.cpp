#include "osm/shape.hpp"


#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>

static_assert(std::endian::native == std::endian::little, "WKB writer assumes a little-endian host");

namespace skyscript::osm {

namespace {

constexpr double wgs84_a = 6378137.0;
constexpr double wgs84_f = 1.0 / 298.257223563;
constexpr double wgs84_e2 = wgs84_f * (2 - wgs84_f);
const double wgs84_e = std::sqrt(wgs84_e2);
constexpr double deg = std::numbers::pi / 180.0;

// Northing of the ellipsoidal Lambert cylindrical equal-area projection, over a:
// y = q(phi) / 2 (Snyder, Map Projections, eq. 3-12). Areas in (a*lambda, a*y) are exact.
double authalic_y(double lat_deg) {
    const double s = std::sin(lat_deg * deg);
    const double es = wgs84_e * s;
    const double q = (1 - wgs84_e2) * (s / (1 - es * es) - (1 / (2 * wgs84_e)) * std::log((1 - es) / (1 + es)));
    return q / 2;
}

template <typename T>
void put(std::string& out, T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out.append(buf, sizeof(T));
}

void put_points(std::string& out, const Point* b, const Point* e) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(e - b));
    for (auto p = b; p != e; ++p) {
        put(out, p->lon);
        put(out, p->lat);
    }
}

double polygon_area(const Shape& s, std::size_t outer_idx, std::size_t* next) {
    double a = std::abs(ring_area_m2(&s.pts[s.parts[outer_idx].begin], &s.pts[s.parts[outer_idx].end]));
    std::size_t i = outer_idx + 1;
    for (; i < s.parts.size() && !s.parts[i].outer; ++i)
        a -= std::abs(ring_area_m2(&s.pts[s.parts[i].begin], &s.pts[s.parts[i].end]));
    *next = i;
    return a;
}

// The size of append_wkb's output: header (byte order, type, count), then per polygon a
// header and ring count, per ring or line a point count and 16 bytes a point.
std::size_t wkb_bytes(const Shape& s) {
    if (s.type == Shape::Type::point) return 1 + 4 + 16;
    if (s.type == Shape::Type::line) return 1 + 4 + 4 + 16 * s.pts.size();
    std::size_t n = 1 + 4 + 4;
    for (const auto& part : s.parts) n += (part.outer ? 1 + 4 + 4 : 0) + 4 + 16 * (part.end - part.begin);
    return n;
}

// The signed area of a ring in the equal-area plane, its vertices taken as they are;
// `on_pole`: whether one of them is on a pole.
double plane_ring_area_m2(const Point* begin, const Point* end, bool& on_pole) {
    on_pole = false;
    if (end - begin < 3) return 0;
    // Translate to the first vertex so that small rings keep their precision.
    const double x0 = begin->lon * deg;
    const double y0 = authalic_y(begin->lat);
    double sum = 0, px = 0, py = 0;
    on_pole = std::abs(begin->lat) == 90;
    for (auto p = begin + 1; p != end; ++p) {
        const double x = p->lon * deg - x0;
        const double y = authalic_y(p->lat) - y0;
        on_pole |= std::abs(p->lat) == 90;
        sum += px * y - x * py;
        px = x;
        py = y;
    }
    return sum / 2 * wgs84_a * wgs84_a;
}

// A vertex on a pole is the stretch of the pole's line between its neighbours' longitudes in
// the equal-area plane: the edges to it are meridians on the ground (every longitude meets
// there), not the diagonals from the one longitude OSM gives it. Without this a triangle
// with a vertex on the South Pole measured half its area (red-team round 31).
double ring_area_through_poles_m2(const Point* begin, const Point* end) {
    std::vector<Point> ring(begin, end);
    if (ring.size() > 1 && ring.front() == ring.back()) ring.pop_back();
    const std::size_t n = ring.size();
    std::vector<Point> out;
    out.reserve(2 * n + 1);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& p = ring[i];
        if (std::abs(p.lat) != 90) {
            out.push_back(p);
            continue;
        }
        out.push_back({ring[(i + n - 1) % n].lon, p.lat});
        out.push_back({ring[(i + 1) % n].lon, p.lat});
    }
    if (out.empty()) return 0;
    out.push_back(out.front());
    bool on_pole = false;
    return plane_ring_area_m2(out.data(), out.data() + out.size(), on_pole);
}

} // namespace

double ring_area_m2(const Point* begin, const Point* end) {
    bool on_pole = false;
    const double area = plane_ring_area_m2(begin, end, on_pole);
    return on_pole ? ring_area_through_poles_m2(begin, end) : area;
}

namespace {

double segment_length_m(const Point& p, const Point& q) {
    const double phi = (p.lat + q.lat) / 2 * deg;
    const double s = std::sin(phi);
    const double w2 = 1 - wgs84_e2 * s * s;
    const double n = wgs84_a / std::sqrt(w2);        // prime vertical radius
    const double m = n * (1 - wgs84_e2) / w2;         // meridional radius
    const double dx = n * std::cos(phi) * (q.lon - p.lon) * deg;
    const double dy = m * (q.lat - p.lat) * deg;
    return std::sqrt(dx * dx + dy * dy);
}

// The point at half the line's length, and that length, from its segments' lengths.
Point line_midpoint(const std::vector<Point>& pts, double* length) {
    thread_local std::vector<double> seg; // kept between calls: no allocation per line
    seg.resize(pts.size() > 0 ? pts.size() - 1 : 0);
    double total = 0;
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) total += seg[i] = segment_length_m(pts[i], pts[i + 1]);
    *length = total;
    const double half = total / 2;
    double walked = 0;
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
        if (walked + seg[i] >= half && seg[i] > 0) {
            const double t = (half - walked) / seg[i];
            return {pts[i].lon + t * (pts[i + 1].lon - pts[i].lon), pts[i].lat + t * (pts[i + 1].lat - pts[i].lat)};
        }
        walked += seg[i];
    }
    return pts.front();
}

// Inside the largest polygon: cut by the horizontal line through the middle of its outer
// ring's bbox, the midpoint of the widest inside run (the idea of GEOS's InteriorPointArea).
// `total` gets the area of all polygons.
Point polygons_interior_point(const Shape& shape, double* total) {
    const auto& pts = shape.pts;
    const auto& parts = shape.parts;
    std::size_t best = 0, best_end = 0;
    double best_area = -1;
    *total = 0;
    for (std::size_t i = 0; i < parts.size();) {
        std::size_t next;
        const double a = polygon_area(shape, i, &next);
        *total += a;
        if (a > best_area) best_area = a, best = i, best_end = next;
        i = next;
    }
    double lo = pts[parts[best].begin].lat, hi = lo;
    for (std::size_t k = parts[best].begin; k < parts[best].end; ++k)
        lo = std::min(lo, pts[k].lat), hi = std::max(hi, pts[k].lat);
    const double y = (lo + hi) / 2;
    thread_local std::vector<double> xs;
    xs.clear();
    for (std::size_t r = best; r < best_end; ++r) {
        for (std::size_t k = parts[r].begin; k + 1 < parts[r].end; ++k) {
            const auto& p = pts[k];
            const auto& q = pts[k + 1];
            if ((p.lat > y) != (q.lat > y)) xs.push_back(p.lon + (y - p.lat) * (q.lon - p.lon) / (q.lat - p.lat));
        }
    }
    std::sort(xs.begin(), xs.end());
    double width = -1;
    Point result = pts[parts[best].begin];
    for (std::size_t k = 0; k + 1 < xs.size(); k += 2) {
        if (xs[k + 1] - xs[k] > width) {
            width = xs[k + 1] - xs[k];
            result = {(xs[k] + xs[k + 1]) / 2, y};
        }
    }
    return result;
}

} // namespace

double line_length_m(const Point* begin, const Point* end) {
    double len = 0;
    for (auto p = begin; p + 1 < end; ++p) len += segment_length_m(*p, p[1]);
    return len;
}

Box Shape::bbox() const {
    Box b{pts.front().lon, pts.front().lat, pts.front().lon, pts.front().lat};
    for (const auto& p : pts) {
        b.min_lon = std::min(b.min_lon, p.lon);
        b.max_lon = std::max(b.max_lon, p.lon);
        b.min_lat = std::min(b.min_lat, p.lat);
        b.max_lat = std::max(b.max_lat, p.lat);
    }
    return b;
}

namespace {

// Whether two consecutive points of a part are more than 180 degrees of longitude apart: the
// shape crosses the antimeridian (OSM draws no segment the long way round the Earth).
bool crosses_antimeridian(const Shape& s) {
    if (s.type == Shape::Type::point) return false;
    for (const auto& part : s.parts)
        for (std::size_t i = part.begin; i + 1 < part.end; ++i)
            if (std::abs(s.pts[i + 1].lon - s.pts[i].lon) > 180) return true;
    return false;
}

// The shape with its western longitudes moved by +360: across the antimeridian, a road from
// 179.999 to -179.999 is 210 m long and its point lies on it (measured as drawn, it was
// 38,000 km long, its point at longitude 0, and its tile placed there).
Shape unwrapped(const Shape& s) {
    Shape u = s;
    for (auto& p : u.pts)
        if (p.lon < 0) p.lon += 360;
    return u;
}

} // namespace

double Shape::area_m2() const {
    if (type != Type::polygons) return 0;
    if (crosses_antimeridian(*this)) return unwrapped(*this).area_m2();
    double total = 0;
    for (std::size_t i = 0; i < parts.size();) total += polygon_area(*this, i, &i);
    return total;
}

double Shape::length_m() const {
    if (type != Type::line) return 0;
    if (crosses_antimeridian(*this)) return unwrapped(*this).length_m();
    return line_length_m(pts.data(), pts.data() + pts.size());
}

Shape::Measures Shape::measures() const {
    if (crosses_antimeridian(*this)) {
        auto m = unwrapped(*this).measures();
        if (m.rep.lon > 180) m.rep.lon -= 360; // back in -180..180
        return m;
    }
    Measures m;
    if (type == Type::point) m.rep = pts.front();
    else if (type == Type::line) m.rep = line_midpoint(pts, &m.length_m);
    else m.rep = polygons_interior_point(*this, &m.area_m2);
    return m;
}

Point Shape::representative_point() const { return measures().rep; }

void Shape::append_wkb(std::string& out) const {
    out.reserve(out.size() + wkb_bytes(*this)); // one allocation, not one per doubling
    out.push_back(1); // little endian
    if (type == Type::point) {
        put<std::uint32_t>(out, 1);
        put(out, pts.front().lon);
        put(out, pts.front().lat);
        return;
    }
    if (type == Type::line) {
        put<std::uint32_t>(out, 2);
        put_points(out, pts.data(), pts.data() + pts.size());
        return;
    }
    put<std::uint32_t>(out, 6);
    const auto polygons = static_cast<std::uint32_t>(std::count_if(parts.begin(), parts.end(), [](const Part& p) { return p.outer; }));
    put(out, polygons);
    for (std::size_t i = 0; i < parts.size();) {
        std::size_t j = i + 1;
        while (j < parts.size() && !parts[j].outer) ++j;
        out.push_back(1);
        put<std::uint32_t>(out, 3);
        put<std::uint32_t>(out, static_cast<std::uint32_t>(j - i));
        for (std::size_t r = i; r < j; ++r) put_points(out, &pts[parts[r].begin], &pts[parts[r].end]);
        i = j;
    }
}

} // namespace skyscript::osm
