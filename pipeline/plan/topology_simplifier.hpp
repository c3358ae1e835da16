#pragma once
// GEOS 3.11's topology-preserving simplification of a geometry's polygons, done on their
// coordinates: the rings GEOSTopologyPreserveSimplify_r would return, point for point, or
// "cannot tell" (then ask GEOS). The plan simplifies every named area it describes (half a
// pixel), and GEOS's simplifier, with its quadtrees of segments and the geometries it builds,
// was a tenth of the plan's time.
//
// What GEOS does (TaggedLinesSimplifier, TaggedLineStringSimplifier): every segment of every
// ring goes into an input index; then ring by ring, in order, Douglas-Peucker: a section is
// flattened to its chord when its furthest point is within the tolerance, the ring keeps its
// minimum size (4 points), and the chord meets no segment still in the input index (the
// section's own excepted) and no chord already made, other than at shared end points; else
// it is split at its furthest point (the first of equals), left part first. Here the same
// steps, with GEOS's own arithmetic for distances (Distance::pointToSegment) and for the sides
// of a segment (CGAlgorithmsDD's floating-point filter); where that filter cannot tell a side
// (GEOS goes on in double-double arithmetic) this gives up, as it does when a ring would end
// with under 4 points or the geometry holds anything but polygons.

#include "pipeline/plan/polygon_clip.hpp"
#include "pipeline/plan/rect_clip.hpp"

#include <geos_c.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace skyscript::pipeline {

// GEOS 3.11's DouglasPeuckerLineSimplifier (what GEOSSimplify does to each line) on one line's
// n points (x y x y ...), with its distance arithmetic: keep[i] is 1 for each point it keeps.
void douglas_peucker(const double* xy, std::size_t n, double tolerance, std::vector<char>& keep);

class TopologySimplifier {
public:
    explicit TopologySimplifier(GEOSContextHandle_t ctx) : ctx_(ctx) {}

    // Whether the GEOS the program runs with is the one this copies (3.11.1, Debian 12's; its
    // simplifier changed in 3.11.5 and 3.12): a shared library can be swapped under a build,
    // and then simplify() always gives up rather than answer otherwise than GEOS does.
    static bool matches_runtime_geos();

    // Simplifies the polygons of `g` (a polygon, or a collection of them at any nesting) by
    // `tolerance`; false when it cannot tell what GEOS would return (nothing is then kept).
    bool simplify(const GEOSGeometry* g, double tolerance);
    // The same for polygons held as coordinates (as GEOS would hold them).
    bool simplify(const PlanePolygons& polygons, double tolerance);

    // After simplify() returned true: polygon p's rings are rings [polygon_ends[p - 1] or 0,
    // polygon_ends[p]), the shell first; ring r's kept points are x y pairs of xy() from
    // ring_ends[r - 1] or 0 to ring_ends[r] (in points), first and last the same.
    std::size_t polygons() const { return polygon_ends_.size(); }
    const std::vector<std::size_t>& polygon_ends() const { return polygon_ends_; }
    const std::vector<std::size_t>& ring_ends() const { return kept_ends_; }
    const std::vector<double>& xy() const { return kept_; }

private:
    enum class Answer : std::uint8_t { no, yes, unknown };
    bool read(const GEOSGeometry* g);
    bool read_ring(const GEOSGeometry* ring);
    bool read_points(std::size_t at); // a ring's points, appended to pt_ from `at`
    void reset();
    bool simplify_read(double tolerance);
    bool simplify_ring(std::size_t ring, double tolerance);
    // Would the chord from point a to point b (of ring `ring`, section [a, b)) meet a segment
    // GEOS's indexes hold at an interior point?
    Answer bad_intersection(std::size_t ring, std::size_t a, std::size_t b);
    Answer interior_intersection(std::size_t p1, std::size_t p2, std::size_t q1, std::size_t q2) const;

    GEOSContextHandle_t ctx_;
    // The input: every ring's points (x y pairs), rings in GEOS's order (polygon by polygon,
    // shell then holes).
    std::vector<double> pt_;
    std::vector<std::size_t> ring_start_;   // first point of each ring; one more entry: the end
    std::vector<std::size_t> polygon_ends_; // in rings
    // The input index: segment k runs from point k to k + 1 (within its ring); cleared when
    // flattened. Runs of 16 segments carry their boxes, so a query skips most of a long ring.
    std::vector<std::uint8_t> in_input_;
    std::vector<PlaneRect> run_box_;
    std::vector<std::size_t> run_ring_start_; // first run of each ring
    // The output index: the chords made so far (point pairs), with their boxes, and the box of
    // each block of 16 in the order they were made (neighbours along a ring: a query skips most).
    std::vector<std::pair<std::size_t, std::size_t>> chords_;
    std::vector<PlaneRect> chord_box_;
    std::vector<PlaneRect> chord_block_box_;
    // The result.
    std::vector<double> kept_;
    std::vector<std::size_t> kept_ends_;
    struct Section {
        std::size_t i, j, depth;
    };
    std::vector<Section> stack_;
};

} // namespace skyscript::pipeline
