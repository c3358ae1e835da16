#include "spatial_filter.hpp"

#include <algorithm>
#include <ranges>
#include <stdexcept>

namespace skyscript::osm {

namespace {

double cross(const Point& o, const Point& a, const Point& b) {
    return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

bool on_segment(const Point& p, const Point& a, const Point& b) {
    return std::min(a.lon, b.lon) <= p.lon && p.lon <= std::max(a.lon, b.lon) &&
           std::min(a.lat, b.lat) <= p.lat && p.lat <= std::max(a.lat, b.lat);
}

bool segments_intersect(const Point& a, const Point& b, const Point& c, const Point& d) {
    const double d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
    return (d1 == 0 && on_segment(a, c, d)) || (d2 == 0 && on_segment(b, c, d)) ||
           (d3 == 0 && on_segment(c, a, b)) || (d4 == 0 && on_segment(d, a, b));
}

// Even-odd test of p against closed rings [ranges of pts].
template <typename Rings>
bool inside_rings(const Point& p, const Rings& rings) {
    bool in = false;
    for (const auto& [b, e] : rings)
        for (auto q = b; q + 1 < e; ++q)
            if ((q->lat > p.lat) != (q[1].lat > p.lat) &&
                p.lon < q->lon + (p.lat - q->lat) * (q[1].lon - q->lon) / (q[1].lat - q->lat))
                in = !in;
    return in;
}

} // namespace

SpatialFilter::SpatialFilter(std::vector<std::vector<Point>> rings) : rings_(std::move(rings)) {
    std::erase_if(rings_, [](const auto& r) { return r.size() < 3; });
    if (rings_.empty()) throw std::invalid_argument("the region has no ring with 3 or more points");
    bbox_ = {rings_[0][0].lon, rings_[0][0].lat, rings_[0][0].lon, rings_[0][0].lat};
    for (auto& r : rings_) {
        if (!(r.front() == r.back())) r.push_back(r.front());
        for (const auto& p : r) {
            bbox_.min_lon = std::min(bbox_.min_lon, p.lon);
            bbox_.max_lon = std::max(bbox_.max_lon, p.lon);
            bbox_.min_lat = std::min(bbox_.min_lat, p.lat);
            bbox_.max_lat = std::max(bbox_.max_lat, p.lat);
        }
    }
}

SpatialFilter SpatialFilter::rectangle(const Box& b) {
    SpatialFilter f({{{b.min_lon, b.min_lat}, {b.max_lon, b.min_lat}, {b.max_lon, b.max_lat}, {b.min_lon, b.max_lat}}});
    f.is_rectangle_ = true;
    return f;
}

bool SpatialFilter::contains(const Point& p) const noexcept {
    if (p.lon < bbox_.min_lon || p.lon > bbox_.max_lon || p.lat < bbox_.min_lat || p.lat > bbox_.max_lat) return false;
    if (is_rectangle_) return true;
    return inside_rings(p, rings_ | std::views::transform([](const auto& r) { return std::pair{r.data(), r.data() + r.size()}; }));
}

bool SpatialFilter::intersects(const Shape& shape, const Box& box) const {
    if (!bbox_.intersects(box)) return false;
    if (is_rectangle_ && bbox_.contains(box)) return true;
    if (std::any_of(shape.pts.begin(), shape.pts.end(), [&](const Point& p) { return contains(p); })) return true;
    if (shape.type == Shape::Type::point) return false;
    // The region may lie wholly inside an area object.
    if (shape.type == Shape::Type::polygons) {
        const auto* pts = shape.pts.data();
        auto rings = shape.parts | std::views::transform([pts](const auto& part) { return std::pair{pts + part.begin, pts + part.end}; });
        if (inside_rings(rings_[0][0], rings)) return true;
    }
    for (const auto& part : shape.parts)
        for (std::size_t i = part.begin; i + 1 < part.end; ++i)
            for (const auto& r : rings_)
                for (std::size_t k = 0; k + 1 < r.size(); ++k)
                    if (segments_intersect(shape.pts[i], shape.pts[i + 1], r[k], r[k + 1])) return true;
    return false;
}

} // namespace skyscript::osm
