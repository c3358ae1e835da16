#include "osm/catalog_builder.hpp"

#include "osm/way_workers.hpp"

#include "osm/area_manager.hpp"
#include "osm/groundable_tags.hpp"

#include <algorithm>

namespace skyscript::osm {

CatalogBuilder::CatalogBuilder(const tags::TagMatcher& matcher, const tags::HiddenRules& hidden, const SpatialFilter* region)
    : matcher_(matcher), hidden_(hidden), region_(region) {}

bool CatalogBuilder::visible_candidate(const osmium::TagList& tags, tags::ObjectKind kind) {
    if (!select_groundable_tags(tags, matcher_, row_)) return false;
    if (!hidden_.find(tags, kind)) return true;
    ++out_->stats.hidden;
    return false;
}

void CatalogBuilder::node(const osmium::Node& node) {
    ++out_->stats.nodes_read;
    if (!node.location().valid()) {
        // A location in the file but off the globe (a PBF's coordinates are free integers):
        // an object that was wanted is counted, not lost without a word.
        if (node.location().is_defined() && !node.tags().empty() && visible_candidate(node.tags(), tags::ObjectKind::point)) ++out_->stats.off_the_globe;
        return;
    }
    const double lon = node.location().lon_without_check(), lat = node.location().lat_without_check();
    auto& b = out_->stats.node_bounds;
    b.min_lon = std::min(b.min_lon, lon), b.max_lon = std::max(b.max_lon, lon);
    b.min_lat = std::min(b.min_lat, lat), b.max_lat = std::max(b.max_lat, lat);
    ++out_->stats.nodes_located;
    if (node.tags().empty() || !visible_candidate(node.tags(), tags::ObjectKind::point)) return;
    shape_.clear();
    shape_.type = Shape::Type::point;
    shape_.pts.push_back({lon, lat});
    shape_.parts.push_back({0, 1, true});
    emit('n', node.id(), 'n');
}

void CatalogBuilder::way(const osmium::Way& way) {
    ++out_->stats.ways_read;
    if (way.tags().empty() || is_area_way(way)) return; // areas come back through area()
    if (!visible_candidate(way.tags(), tags::ObjectKind::line)) return;
    shape_.clear();
    shape_.type = Shape::Type::line;
    for (const auto& nr : way.nodes()) {
        const auto& loc = nr.location();
        if (!loc.valid()) {
            ++(loc.is_defined() ? out_->stats.off_the_globe : out_->stats.missing_locations); // undefined: no node of that id was read
            return;
        }
        const Point p{loc.lon(), loc.lat()};
        if (shape_.pts.empty() || !(shape_.pts.back() == p)) shape_.pts.push_back(p);
    }
    if (shape_.pts.size() < 2) {
        ++out_->stats.invalid_lines;
        return;
    }
    shape_.parts.push_back({0, shape_.pts.size(), true});
    emit('w', way.id(), 'w');
}

void CatalogBuilder::area(const osmium::Area& area) {
    if (!visible_candidate(area.tags(), tags::ObjectKind::area)) return;
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
        ++out_->stats.outside_region;
        return;
    }
    row_.osm_type = osm_type;
    row_.osm_id = id;
    row_.kind = kind;
    row_.bbox = box;
    const auto measures = shape_.measures(); // the point measures the area or length on the way
    row_.rep_lon = measures.rep.lon;
    row_.rep_lat = measures.rep.lat;
    row_.area_m2 = measures.area_m2;
    row_.length_m = measures.length_m;
    row_.wkb.clear();
    shape_.append_wkb(row_.wkb);
    const auto first = out_->vertices.size();
    out_->vertices.insert(out_->vertices.end(), shape_.pts.begin(), shape_.pts.end());
    out_->spans.emplace_back(first, out_->vertices.size());
    out_->rows.push_back(std::move(row_));
    row_ = CatalogRow{};
}

RowSequencer::RowSequencer(RowSink& sink, ExtractStats& stats, const ObjectSelection* only, std::size_t batch_size)
    : sink_(sink), stats_(stats), batch_size_(batch_size), only_(only) {
    batch_ = sink_.spare_batch();
    batch_.reserve(batch_size_);
}

void RowSequencer::take(MadeRows& made) {
    const auto& s = made.stats;
    stats_.nodes_read += s.nodes_read, stats_.ways_read += s.ways_read, stats_.nodes_located += s.nodes_located;
    stats_.invalid_lines += s.invalid_lines, stats_.invalid_areas += s.invalid_areas, stats_.missing_locations += s.missing_locations;
    stats_.outside_region += s.outside_region, stats_.hidden += s.hidden, stats_.unreadable_tags += s.unreadable_tags;
    stats_.not_wanted += s.not_wanted, stats_.off_the_globe += s.off_the_globe;
    if (s.nodes_located) stats_.node_bounds.add(s.node_bounds);
    for (std::size_t i = 0; i < made.rows.size(); ++i) {
        auto& row = made.rows[i];
        if (only_) {
            const auto n = static_cast<std::size_t>(rows_seen_++);
            if (n >= only_->rows.size() || only_->rows[n].osm_type != row.osm_type || only_->rows[n].osm_id != row.osm_id)
                throw InputChanged(std::string("row ") + row.osm_type + std::to_string(row.osm_id) + " was not made by the first read");
            row.fid = only_->rows[n].fid;
        } else if (!fids_given_) {
            row.fid = ++rows_seen_;
        }
        const auto [first, last] = made.spans[i];
        if (!sink_.wants(row, std::span<const Point>(made.vertices.data() + first, last - first))) {
            ++stats_.not_wanted;
            continue;
        }
        ++(row.kind == 'n' ? stats_.points : row.kind == 'w' ? stats_.lines : stats_.areas);
        batch_.push_back(std::move(row));
        if (batch_.size() >= batch_size_) {
            sink_.consume(std::move(batch_));
            batch_ = sink_.spare_batch();
            batch_.clear();
            batch_.reserve(batch_size_);
        }
    }
    made.clear();
}

void RowSequencer::take_spilled(RowSpill& rows, int threads, const std::function<bool(const CatalogRow&)>& keep,
                                const std::function<void(std::uint64_t)>& progress) {
    // Chunks read back, filtered and prepared for the sink on `threads` workers (the reading
    // thread did it all, a malloc a string, and the writer made every record), taken in order here.
    rows.seal();
    std::uint64_t read = 0;
    // A row dropped on its worker takes no number here: the others keep theirs.
    fids_given_ = keep && !only_;
    const auto work = [&](WayPiece& piece, int) {
        auto& made = piece.made;
        rows.read_chunk(piece.spill_chunk, keep, [&](CatalogRow&& row) {
            const auto first = made.vertices.size();
            if (row.kind == 'n') made.vertices.push_back({row.bbox.min_lon, row.bbox.min_lat}); // a point's box is the point
            made.spans.emplace_back(first, made.vertices.size());
            sink_.prepare(row);
            made.rows.push_back(std::move(row));
        });
        rows.release_chunk(piece.spill_chunk);
        if (!only_) made.stats.not_wanted += rows.chunk_rows(piece.spill_chunk) - made.rows.size();
    };
    const auto in_order = [&](WayPiece& piece) {
        take(piece.made);
        read += rows.chunk_rows(piece.spill_chunk);
        if (progress) progress(read);
    };
    WayWorkers workers{threads, work, in_order};
    for (std::size_t k = 0; k < rows.chunks(); ++k) {
        auto piece = std::make_unique<WayPiece>();
        piece->spill_chunk = k;
        workers.push(std::move(piece));
    }
    workers.finish();
    fids_given_ = false;
}

void RowSequencer::finish() {
    if (only_ && static_cast<std::size_t>(rows_seen_) != only_->rows.size())
        throw InputChanged(std::to_string(only_->rows.size() - static_cast<std::size_t>(rows_seen_)) + " rows of the first read were not made again");
    if (!batch_.empty()) sink_.consume(std::move(batch_));
    batch_.clear();
}

} // namespace skyscript::osm
