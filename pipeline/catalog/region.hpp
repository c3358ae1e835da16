#pragma once
// The --bbox and --polygon options, parsed into the spatial filter osm/ applies.

#include "spatial_filter.hpp"

#include <string>

namespace skyscript::pipeline {

// "W,S,E,N" in degrees; UsageError naming --bbox on any problem.
osm::Box parse_bbox(const std::string& text);

// Polygons and multipolygons of a GeoJSON (or any OGR-readable) file, in lon/lat.
// Throws std::runtime_error starting with the file name.
osm::SpatialFilter load_polygon_region(const std::string& path);

} // namespace skyscript::pipeline
