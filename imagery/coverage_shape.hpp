#pragma once
// Where a source has imagery when a box is not enough: polygons in lon/lat (WGS 84), from a
// sources file's `coverage` (inline rings, a GeoJSON file) or a built-in footprint
// (imagery/footprints/, docs/sources.md). A shape is built once, checked, and shared
// immutable by every copy of its source.
//
// Polygons must not cross the antimeridian: a ring whose consecutive vertices are more than
// 180 degrees of longitude apart is refused (split such a polygon at +-180 into two parts).

#include "imagery/tile_grid.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::imagery {

struct LonLat {
    double lon, lat;
};

// A polygon: its outer ring, then its holes. Rings are closed (the last position repeats
// the first).
using CoverageRing = std::vector<LonLat>;
using CoveragePolygon = std::vector<CoverageRing>;

// What is wrong with a polygon or a GeoJSON text, in words for one line of an error.
class CoverageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CoverageShape {
public:
    // Checks the polygons (at least one; rings of at least 4 positions, closed; finite lon in
    // [-180, 180], lat in [-90, 90]; no jump across the antimeridian) and indexes them.
    // `origin` says where they come from ("builtin:ch", a file path, "inline").
    static std::shared_ptr<const CoverageShape> make(std::vector<CoveragePolygon> polygons, std::string origin);

    // Inside a polygon and not in one of its holes (a point on an edge may go either way).
    bool contains(double lon, double lat) const noexcept;
    // The whole box lies inside: its corners are, and no edge of any ring (holes included)
    // meets it. A box across the antimeridian (west > east) is tested as its two halves.
    bool contains_box(const LonLatBox& box) const noexcept;
    // The box and the shape share a point: an edge of a ring meets the box, or the box's
    // centre is inside (a box within the shape). Across the antimeridian: either half.
    bool meets_box(const LonLatBox& box) const noexcept;

    const LonLatBox& bounds() const noexcept { return bounds_; }
    std::size_t vertex_count() const noexcept { return vertices_; } // positions, the closing one not counted
    std::size_t part_count() const noexcept { return parts_.size(); }
    std::size_t hole_count() const noexcept;
    const std::string& origin() const noexcept { return origin_; }
    // sha256 (hex) of every vertex, ring and part: any change of the polygons changes it.
    const std::string& digest() const noexcept { return digest_; }

private:
    struct Edge {
        double x1, y1, x2, y2;
    };
    struct Part {
        LonLatBox box;
        std::vector<Edge> edges;                      // every ring's edges: even-odd counts holes out
        std::vector<std::vector<std::uint32_t>> bands; // edges by latitude band (indices into edges)
        double band_height = 0;
        std::size_t holes = 0;
        std::size_t band_of(double lat) const noexcept;
    };
    bool part_contains(const Part& p, double lon, double lat) const noexcept;
    bool contains_plain_box(const LonLatBox& box) const noexcept;
    bool meets_plain_box(const LonLatBox& box) const noexcept;

    std::vector<Part> parts_;
    LonLatBox bounds_{0, 0, 0, 0};
    std::size_t vertices_ = 0;
    std::string origin_, digest_;
};

// A GeoJSON text (Polygon, MultiPolygon, Feature or FeatureCollection of those; holes
// honoured; RFC 7946 lon/lat) as a shape. Throws CoverageError saying what is wrong
// ("not JSON (...)", "a Point (coverage needs Polygon or MultiPolygon)", "polygon 2, ring 1:
// 3 positions (a ring needs at least 4, the last repeating the first)", ...).
std::shared_ptr<const CoverageShape> coverage_from_geojson(std::string_view text, const std::string& origin);

// Reads a GeoJSON file: a regular file of at most 64 MiB. CoverageError on what is wrong,
// starting with the file's path.
std::shared_ptr<const CoverageShape> coverage_from_geojson_file(const std::string& path);

// The footprints built into the binary (imagery/footprints/NAME.geojson), as "builtin:NAME";
// parsed once and shared. CoverageError naming the known ones when there is no such name.
std::shared_ptr<const CoverageShape> builtin_footprint(std::string_view name);
std::vector<std::string> builtin_footprint_names();

} // namespace skyscript::imagery
