#pragma once
// Whether GEOS's topology-preserving simplification would leave the rings of a geometry's
// polygons as they are, told without running it. The plan simplifies every named area it
// describes (half a pixel), and GEOSTopologyPreserveSimplify_r builds its segment indexes
// whatever it then finds: a seventh of the plan's time, for rings it mostly leaves alone (a
// building's corners are pixels apart). When this says yes, the clipped geometry is written
// as it is, which is what the simplifier would have returned.

#include <geos_c.h>

#include <cstddef>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

class SimplifyCheck {
public:
    explicit SimplifyCheck(GEOSContextHandle_t ctx) : ctx_(ctx) {}
    // True only when no ring of `g`'s polygons (any nesting of collections) would change
    // under GEOSTopologyPreserveSimplify_r(g, tolerance); false when one may (then let GEOS
    // decide). Lines and points in `g` are not looked at.
    bool keeps_rings(const GEOSGeometry* g, double tolerance);

private:
    bool keeps_ring(const GEOSGeometry* ring, double tolerance);
    GEOSContextHandle_t ctx_;
    std::vector<double> coords_;                              // a ring's x y x y ...
    std::vector<std::pair<std::size_t, std::size_t>> sections_; // its sections still to visit
};

} // namespace skyscript::pipeline
