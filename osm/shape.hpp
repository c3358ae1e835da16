#pragma once
// Coordinates of one object as plain lon/lat arrays, and everything measured on them:
// bbox, geodesic area/length, a representative point, WKB. One code path for all
// three kinds keeps the catalog's numbers consistent with its geometry.

#include "osm/catalog_row.hpp"

#include <string>
#include <vector>

namespace skyscript::osm {

struct Shape {
    enum class Type { point, line, polygons };
    // A part is a ring (polygons) or the one line; parts of a polygon follow its outer ring.
    struct Part {
        std::size_t begin, end; // range in pts
        bool outer;
    };
    Type type = Type::point;
    std::vector<Point> pts;
    std::vector<Part> parts;

    void clear() { pts.clear(); parts.clear(); }
    Box bbox() const;
    // Ellipsoidal (WGS84) measures: exact equal-area projection for areas, local radii for lengths.
    double area_m2() const;
    double length_m() const;
    // On the line (half its length) or inside the polygon (widest interior run of a scanline).
    Point representative_point() const;
    // All three at the cost of the representative point alone, which measures the line's
    // segments or the polygons' areas anyway; equal to what the three functions return.
    struct Measures {
        double area_m2 = 0, length_m = 0;
        Point rep{0, 0};
    };
    Measures measures() const;
    // ISO WKB little endian: Point, LineString or MultiPolygon.
    void append_wkb(std::string& out) const;
};

double ring_area_m2(const Point* begin, const Point* end); // signed: > 0 counter-clockwise
double line_length_m(const Point* begin, const Point* end);

} // namespace skyscript::osm
