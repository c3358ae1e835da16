// Geometry measures against PROJ's geodesic library (GeographicLib's algorithms).

#include "osm/shape.hpp"
#include "osm/spatial_filter.hpp"

#include <doctest/doctest.h>
#include <geodesic.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace skyscript::osm;

namespace {

double geodesic_area(const std::vector<Point>& ring) {
    geod_geodesic g;
    geod_init(&g, 6378137, 1 / 298.257223563);
    std::vector<double> lats, lons;
    for (std::size_t i = 0; i + 1 < ring.size(); ++i) lats.push_back(ring[i].lat), lons.push_back(ring[i].lon);
    double area = 0, perimeter = 0;
    geod_polygonarea(&g, lats.data(), lons.data(), static_cast<int>(lats.size()), &area, &perimeter);
    return area;
}

double geodesic_length(const std::vector<Point>& line) {
    geod_geodesic g;
    geod_init(&g, 6378137, 1 / 298.257223563);
    double total = 0;
    for (std::size_t i = 0; i + 1 < line.size(); ++i) {
        double s12, a1, a2;
        geod_inverse(&g, line[i].lat, line[i].lon, line[i + 1].lat, line[i + 1].lon, &s12, &a1, &a2);
        total += s12;
    }
    return total;
}

Shape polygon(std::vector<std::vector<Point>> rings) {
    Shape s;
    s.type = Shape::Type::polygons;
    bool outer = true;
    for (auto& r : rings) {
        const auto b = s.pts.size();
        s.pts.insert(s.pts.end(), r.begin(), r.end());
        s.parts.push_back({b, s.pts.size(), outer});
        outer = false;
    }
    return s;
}

// A region of one polygon (outer ring, then holes) as the filter takes it: WKB.
SpatialFilter region(std::vector<std::vector<Point>> rings) {
    std::string wkb;
    polygon(std::move(rings)).append_wkb(wkb);
    return SpatialFilter({wkb});
}

} // namespace

TEST_CASE("ring area matches the geodesic area at several latitudes and sizes") {
    for (double lat : {0.0, 43.7, 60.5, 78.0, -33.9}) {
        for (double side : {0.0003, 0.01, 0.3}) {
            const std::vector<Point> ring{{7.0, lat}, {7.0 + side, lat}, {7.0 + side, lat + side * 0.7},
                                          {7.0 + side * 0.3, lat + side}, {7.0, lat}};
            const double ours = std::abs(ring_area_m2(ring.data(), ring.data() + ring.size()));
            const double ref = std::abs(geodesic_area(ring));
            INFO("lat " << lat << " side " << side);
            // Edges are straight in the equal-area projection, not geodesics: exact for
            // building-sized rings, within 0.5% for a 30 km one.
            CHECK(ours == doctest::Approx(ref).epsilon(side < 0.1 ? 1e-4 : 5e-3));
        }
    }
}

TEST_CASE("a ring with a vertex on a pole: the edges to it are meridians, its area the geodesic one (red-team round 31)") {
    // A wedge from the South Pole to 55.7 m out, 10 degrees wide (before: half its area: the
    // edge back to the pole taken as the lon/lat diagonal to its one longitude, 0); the pole
    // first, in the middle, and the North Pole.
    const std::vector<std::vector<Point>> rings{{{0, -90}, {0, -89.9995}, {10, -89.9995}, {0, -90}},
                                                {{0, -89.9995}, {10, -89.9995}, {123, -90}, {0, -89.9995}},
                                                {{40, 89.999}, {45, 90}, {50, 89.999}, {40, 89.999}}};
    for (const auto& ring : rings) {
        const double ours = std::abs(ring_area_m2(ring.data(), ring.data() + ring.size()));
        const double ref = std::abs(geodesic_area(ring));
        INFO(ring[0].lon << "," << ring[0].lat << ": " << ours << " m2, geodesic " << ref);
        CHECK(ours == doctest::Approx(ref).epsilon(0.02)); // the far edge a parallel here, a geodesic there
    }
}

TEST_CASE("area subtracts holes; orientation does not matter") {
    const std::vector<Point> outer{{9.5, 47.1}, {9.51, 47.1}, {9.51, 47.11}, {9.5, 47.11}, {9.5, 47.1}};
    std::vector<Point> hole{{9.502, 47.102}, {9.504, 47.102}, {9.504, 47.104}, {9.502, 47.104}, {9.502, 47.102}};
    const auto with_hole = polygon({outer, hole});
    std::reverse(hole.begin(), hole.end());
    const auto reversed = polygon({outer, hole});
    const double expected = std::abs(geodesic_area(outer)) - std::abs(geodesic_area(hole));
    CHECK(with_hole.area_m2() == doctest::Approx(expected).epsilon(1e-4));
    CHECK(reversed.area_m2() == doctest::Approx(expected).epsilon(1e-4));
}

TEST_CASE("line length matches geodesic length, short city segments and a long line") {
    const std::vector<Point> street{{7.42, 43.73}, {7.4203, 43.7302}, {7.4207, 43.7301}, {7.4215, 43.7309}};
    const std::vector<Point> long_line{{9.0, 45.0}, {9.5, 45.8}, {10.1, 46.9}};
    for (const auto* line : {&street, &long_line}) {
        Shape s;
        s.type = Shape::Type::line;
        s.pts = *line;
        s.parts.push_back({0, line->size(), true});
        CHECK(s.length_m() == doctest::Approx(geodesic_length(*line)).epsilon(1e-3));
    }
}

TEST_CASE("representative point is inside a concave polygon and outside its hole") {
    // A "C" shape: the bbox centre is in the gap, not in the polygon.
    const std::vector<Point> c{{0, 0}, {3, 0}, {3, 1}, {1, 1}, {1, 2}, {3, 2}, {3, 3}, {0, 3}, {0, 0}};
    const auto shape = polygon({c});
    const Point p = shape.representative_point();
    const auto inside = region({c});
    CHECK(inside.contains(p));
    CHECK_FALSE(inside.contains({2, 1.5}));

    const std::vector<Point> square{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}};
    const std::vector<Point> hole{{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}};
    const Point q = polygon({square, hole}).representative_point();
    CHECK(region({square, hole}).contains(q));
}

TEST_CASE("representative point of a line lies on it, halfway along") {
    Shape s;
    s.type = Shape::Type::line;
    s.pts = {{0, 0}, {0, 0.001}, {0.003, 0.001}};
    s.parts.push_back({0, 3, true});
    const Point p = s.representative_point();
    CHECK(p.lat == doctest::Approx(0.001));
    CHECK(p.lon > 0);
    CHECK(p.lon < 0.003);
}

TEST_CASE("a shape across the antimeridian is measured across it, not the long way round the Earth") {
    // A road in Fiji from 179.999 to -179.999 (a helper's review: catalogued 38,434,882 m long,
    // its point at longitude 0, where its tile was then placed).
    Shape road;
    road.type = Shape::Type::line;
    road.pts = {{179.999, -16.5}, {-179.999, -16.5}};
    road.parts.push_back({0, 2, true});
    const auto m = road.measures();
    CHECK(m.length_m == doctest::Approx(geodesic_length(road.pts)).epsilon(1e-3)); // geodesics take the short way
    CHECK(m.length_m < 250);
    CHECK(road.length_m() == m.length_m);
    CHECK(std::abs(std::abs(m.rep.lon) - 180) < 0.001);
    CHECK(m.rep.lat == doctest::Approx(-16.5));
    // A building across it: its area is a few hundred square metres, its point inside it.
    const std::vector<Point> ring{{179.9999, -16.5}, {-179.9999, -16.5}, {-179.9999, -16.4999}, {179.9999, -16.4999}, {179.9999, -16.5}};
    const auto building = polygon({ring});
    const auto b = building.measures();
    CHECK(b.area_m2 == doctest::Approx(std::abs(geodesic_area(ring))).epsilon(1e-3));
    CHECK(b.area_m2 < 400);
    CHECK(building.area_m2() == b.area_m2);
    CHECK(std::abs(std::abs(b.rep.lon) - 180) < 0.0001);
    CHECK(b.rep.lat > -16.5);
    CHECK(b.rep.lat < -16.4999);
    CHECK(building.representative_point().lon == b.rep.lon);
}

TEST_CASE("WKB is ISO little endian with the right type codes and counts") {
    Shape pt;
    pt.type = Shape::Type::point;
    pt.pts = {{7.5, 43.25}};
    pt.parts.push_back({0, 1, true});
    std::string wkb;
    pt.append_wkb(wkb);
    REQUIRE(wkb.size() == 21);
    CHECK(wkb[0] == 1);
    CHECK(wkb[1] == 1);
    double x;
    std::memcpy(&x, wkb.data() + 5, 8);
    CHECK(x == 7.5);

    const auto mp = polygon({{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, {{0.1, 0.05}, {0.2, 0.05}, {0.2, 0.1}, {0.1, 0.05}}});
    wkb.clear();
    mp.append_wkb(wkb);
    // header 9 + polygon header 9 + 2 rings × (4 + 4 points × 16)
    CHECK(wkb.size() == 9 + 9 + 2 * (4 + 4 * 16));
    CHECK(wkb[1] == 6);
    CHECK(wkb[5] == 1); // one polygon
}

TEST_CASE("spatial filter: crossing lines without vertices inside, regions inside areas, misses") {
    const auto box = SpatialFilter::rectangle({1, 1, 2, 2});
    Shape line;
    line.type = Shape::Type::line;
    line.pts = {{0, 1.5}, {3, 1.5}};
    line.parts.push_back({0, 2, true});
    CHECK(box.intersects(line, line.bbox()));
    line.pts = {{0, 0}, {0.9, 3}}; // bbox overlaps the box, the line does not
    CHECK_FALSE(box.intersects(line, line.bbox()));
    const auto big = polygon({{{0, 0}, {3, 0}, {3, 3}, {0, 3}, {0, 0}}});
    CHECK(box.intersects(big, big.bbox()));
    const auto ring_around = polygon({{{0, 0}, {3, 0}, {3, 3}, {0, 3}, {0, 0}}, {{0.5, 0.5}, {2.5, 0.5}, {2.5, 2.5}, {0.5, 2.5}, {0.5, 0.5}}});
    CHECK_FALSE(box.intersects(ring_around, ring_around.bbox())); // the box sits in the hole
}

TEST_CASE("spatial filter: overlapping polygons are one region, their overlap included") {
    std::string a, b;
    polygon({{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}).append_wkb(a);
    polygon({{{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}}).append_wkb(b);
    const SpatialFilter both({a, b});
    CHECK(both.contains({1.5, 1.5})); // in both squares: even-odd would call it outside
    CHECK(both.contains({0.5, 0.5}));
    CHECK(both.contains({2.5, 2.5}));
    CHECK_FALSE(both.contains({2.5, 0.5}));
    const auto inner = polygon({{{1.4, 1.4}, {1.6, 1.4}, {1.6, 1.6}, {1.4, 1.6}, {1.4, 1.4}}});
    CHECK(both.intersects(inner, inner.bbox()));
    Shape line;
    line.type = Shape::Type::line;
    line.pts = {{1.2, 1.5}, {1.8, 1.5}};
    line.parts.push_back({0, 2, true});
    CHECK(both.intersects(line, line.bbox()));
    CHECK(both.bbox().min_lon == 0);
    CHECK(both.bbox().max_lat == 3);
    CHECK_THROWS_AS(SpatialFilter(std::vector<std::string>{}), std::invalid_argument);

    // Overlapping parts of one MultiPolygon, and enough parts for the envelope index.
    std::vector<std::vector<Point>> squares;
    for (int i = 0; i < 12; ++i) {
        const double x = i * 0.5; // each square overlaps the next by half
        squares.push_back({{x, 0}, {x + 1, 0}, {x + 1, 1}, {x, 1}, {x, 0}});
    }
    Shape multi;
    multi.type = Shape::Type::polygons;
    for (const auto& sq : squares) {
        const auto begin = multi.pts.size();
        multi.pts.insert(multi.pts.end(), sq.begin(), sq.end());
        multi.parts.push_back({begin, multi.pts.size(), true});
    }
    std::string wkb;
    multi.append_wkb(wkb);
    const SpatialFilter many({wkb});
    for (double x = 0.25; x < 6.5; x += 0.5) CHECK_MESSAGE(many.contains({x, 0.5}), x);
    CHECK_FALSE(many.contains({6.75, 0.5}));
    CHECK_FALSE(many.contains({3, 1.5}));
}

TEST_CASE("measures() gives exactly what area_m2(), length_m() and representative_point() give") {
    auto same = [](const Shape& s) {
        const auto m = s.measures();
        const Point rep = s.representative_point();
        CHECK(m.area_m2 == s.area_m2());
        CHECK(m.length_m == s.length_m());
        CHECK(m.rep.lon == rep.lon);
        CHECK(m.rep.lat == rep.lat);
    };
    Shape line;
    line.type = Shape::Type::line;
    line.pts = {{7.42, 43.73}, {7.4203, 43.7302}, {7.4203, 43.7302}, {7.4207, 43.7301}, {7.4215, 43.7309}, {7.43, 43.7}};
    line.parts.push_back({0, line.pts.size(), true});
    same(line);
    CHECK(line.measures().length_m > 0);
    CHECK(line.measures().area_m2 == 0);
    const std::vector<Point> square{{9.5, 47.1}, {9.51, 47.1}, {9.51, 47.11}, {9.5, 47.11}, {9.5, 47.1}};
    const std::vector<Point> hole{{9.502, 47.102}, {9.504, 47.102}, {9.504, 47.104}, {9.502, 47.104}, {9.502, 47.102}};
    const std::vector<Point> small{{9.52, 47.1}, {9.521, 47.1}, {9.521, 47.101}, {9.52, 47.1}};
    auto two = polygon({square, hole});
    const auto b = two.pts.size();
    two.pts.insert(two.pts.end(), small.begin(), small.end());
    two.parts.push_back({b, two.pts.size(), true});
    same(two);
    CHECK(two.measures().area_m2 > 0);
    CHECK(two.measures().length_m == 0);
    Shape point;
    point.pts = {{7.5, 43.25}};
    point.parts.push_back({0, 1, true});
    same(point);
}
