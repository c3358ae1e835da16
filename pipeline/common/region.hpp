#pragma once
// The --bbox and --polygon options, parsed into the spatial filter osm/ applies.

#include "osm/spatial_filter.hpp"

#include <optional>
#include <string>

namespace skyscript::pipeline {

// "W,S,E,N" in degrees; UsageError naming --bbox on any problem.
osm::Box parse_bbox(const std::string& text);

// The union of the polygons and multipolygons of a GeoJSON (or any OGR-readable) file,
// in lon/lat. Throws UsageError naming --polygon, the file and what is wrong with it.
// `digest`, when given, receives what the region is as 16 hex digits (its polygons' lon/lat
// WKB in GEOS's normal form, sorted: a file saved again with other spacing or properties, its
// features in another order, its rings reversed or started elsewhere, is the same region): the extract records it in the catalog's meta ("region_digest"), and a rerun naming
// the same file compares it (catalog/catalog_identity.hpp).
osm::SpatialFilter load_polygon_region(const std::string& path, std::string* digest = nullptr);

// For a region that kept nothing: the same box with longitude and latitude swapped, when
// that box is a valid one and covers more of the input (`input_bounds`) than `region` does.
std::optional<osm::Box> swapped_box_if_better(const osm::Box& region, const osm::Box& input_bounds);

// "W,S,E,N" as the user would type it.
std::string format_box(const osm::Box& box);

} // namespace skyscript::pipeline
