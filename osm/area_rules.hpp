#pragma once
// Is a closed way an area or a closed line? OSM leaves it to the tags: a closed
// highway=footway is a loop, a closed building is a footprint. These are the
// rules osm2pgsql and the iD editor apply, reduced to the keys we keep.

#include <osmium/osm/tag.hpp>

namespace skyscript::osm {

bool closed_way_is_area(const osmium::TagList& tags) noexcept;

} // namespace skyscript::osm
