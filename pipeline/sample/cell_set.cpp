#include "pipeline/sample/cell_set.hpp"


#include <algorithm>
#include <cmath>

namespace skyscript::pipeline {

namespace {

std::uint16_t column(double lon) {
    return static_cast<std::uint16_t>(std::clamp(std::floor((lon + 180.0) * 100.0), 0.0, double(cell_columns - 1)));
}
std::uint16_t row(double lat) { return static_cast<std::uint16_t>(std::clamp(std::floor((lat + 90.0) * 100.0), 0.0, double(cell_rows - 1))); }

} // namespace

CellBox CellBox::of(const osm::Box& b) {
    CellBox c{column(b.min_lon), row(b.min_lat), column(b.max_lon), row(b.max_lat)};
    if (b.min_lon < -180 || b.max_lon > 180) c.x0 = 0, c.x1 = cell_columns - 1; // across the antimeridian: every column
    return c;
}

} // namespace skyscript::pipeline
