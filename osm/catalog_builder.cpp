#include "catalog_builder.hpp"

#include "area_manager.hpp"
#include "groundable_tags.hpp"

namespace skyscript::osm {

CatalogBuilder::CatalogBuilder(const tags::TagMatcher& matcher, const SpatialFilter* region, RowSink& sink,
                               ExtractStats& stats, std::size_t batch_size)
    : matcher_(matcher), region_(region), sink_(sink), stats_(stats), batch_size_(batch_size) {
    batch_.reserve(batch_size_);
}

void CatalogBuilder::node(const osmium::Node& node) {
    ++stats_.nodes_read;
    if (seen_way_)
        throw UnsortedInput("nodes come after ways; sort it first: osmium sort INPUT -o sorted.osm.pbf");
    if (node.tags().empty() || !node.location().valid()) return;
    if (!select_groundable_tags(node.tags(), matcher_, row_)) return;
    shape_.clear();
    shape_.type = Shape::Type::point;
    shape_.pts.push_back({node.location().lon(), node.location().lat()});
    shape_.parts.push_back({0, 1, true});
    emit('n', node.id(), 'n');
}

void CatalogBuilder::way(const osmium::Way& way) {
    ++stats_.ways_read;
    seen_way_ = true;
    if (way.tags().empty() || is_area_way(way)) return; // areas come back through area()
    if (!select_groundable_tags(way.tags(), matcher_, row_)) return;
    shape_.clear();
    shape_.type = Shape::Type::line;
    for (const auto& nr : way.nodes()) {
        const auto& loc = nr.location();
        if (!loc.valid()) {
            ++stats_.missing_locations;
            return;
        }
        const Point p{loc.lon(), loc.lat()};
        if (shape_.pts.empty() || !(shape_.pts.back() == p)) shape_.pts.push_back(p);
    }
    if (shape_.pts.size() < 2) {
        ++stats_.invalid_lines;
        return;
    }
    shape_.parts.push_back({0, shape_.pts.size(), true});
    emit('w', way.id(), 'w');
}

void CatalogBuilder::area(const osmium::Area& area) {
    if (!select_groundable_tags(area.tags(), matcher_, row_)) return;
    shape_.clear();
    shape_.type = Shape::Type::polygons;
    auto add_ring = [&](const auto& ring, bool outer) {
        const auto begin = shape_.pts.size();
        for (const auto& nr : ring) shape_.pts.push_back({nr.location().lon(), nr.location().lat()});
        shape_.parts.push_back({begin, shape_.pts.size(), outer});
    };
    for (const auto& outer : area.outer_rings()) {
        add_ring(outer, true);
        for (const auto& inner : area.inner_rings(outer)) add_ring(inner, false);
    }
    if (shape_.pts.empty()) return;
    emit(area.from_way() ? 'w' : 'r', area.orig_id(), 'a');
}

void CatalogBuilder::emit(char osm_type, std::int64_t id, char kind) {
    const Box box = shape_.bbox();
    if (region_ && !region_->intersects(shape_, box)) {
        ++stats_.outside_region;
        return;
    }
    row_.osm_type = osm_type;
    row_.osm_id = id;
    row_.kind = kind;
    row_.bbox = box;
    row_.area_m2 = shape_.area_m2();
    row_.length_m = shape_.length_m();
    const Point rep = shape_.representative_point();
    row_.rep_lon = rep.lon;
    row_.rep_lat = rep.lat;
    row_.wkb.clear();
    shape_.append_wkb(row_.wkb);
    ++(kind == 'n' ? stats_.points : kind == 'w' ? stats_.lines : stats_.areas);
    batch_.push_back(std::move(row_));
    row_ = CatalogRow{};
    if (batch_.size() >= batch_size_) {
        sink_.consume(std::move(batch_));
        batch_.clear();
        batch_.reserve(batch_size_);
    }
}

void CatalogBuilder::finish() {
    if (!batch_.empty()) sink_.consume(std::move(batch_));
    batch_.clear();
}

} // namespace skyscript::osm
