#include "pipeline/plan/catalog_index.hpp"

#include "pipeline/catalog/catalog_tags.hpp"
#include "pipeline/common/seeded_hash.hpp"

namespace skyscript::pipeline {

FocusGeometry measure_focus(const IndexedObject& o, const std::vector<osm::Point>& line_vertices, std::uint64_t seed) {
    return measure_focus(o.kind, object_key(o.osm_type, o.osm_id), o.rep_lon, o.rep_lat, o.bbox, line_vertices, seed);
}

FocusGeometry measure_focus(const IndexedObject& o, CatalogReader& catalog, std::uint64_t seed) {
    return measure_focus(o, o.kind == 'w' ? catalog.line_vertices(o.fid) : std::vector<osm::Point>{}, seed);
}

std::uint32_t CatalogIndex::intern(const std::string& s) {
    const auto [it, added] = string_ids_.try_emplace(s, static_cast<std::uint32_t>(strings_.size()));
    if (added) strings_.push_back(s);
    return it->second;
}

CatalogIndex::CatalogIndex(CatalogReader& catalog, const tags::TagMatcher& matcher) {
    std::vector<std::pair<std::string, std::string>> pairs;
    catalog.for_each_with_tags([&](const CatalogObject& c) {
        IndexedObject o;
        o.fid = c.fid;
        o.osm_id = c.osm_id;
        o.osm_type = c.osm_type;
        o.kind = c.kind;
        o.focus_tag = intern(c.focus_tag);
        o.max_gsd = c.max_gsd;
        o.rep_lon = c.rep_lon;
        o.rep_lat = c.rep_lat;
        o.area_m2 = c.area_m2;
        o.length_m = c.length_m;
        o.bbox = c.bbox;
        o.tags_begin = static_cast<std::uint32_t>(tags_.size());
        pairs.clear();
        parse_catalog_tags(c.tags, pairs);
        for (const auto& [k, value] : pairs) {
            const auto* e = matcher.find(k, value);
            if (!e) continue; // the run's vocabulary differs from the extract's: not groundable now
            tags_.push_back({intern(k), intern(value), static_cast<float>(e->max_gsd), e->role == tags::Role::feature});
        }
        o.tags_end = static_cast<std::uint32_t>(tags_.size());
        const auto i = static_cast<std::uint32_t>(objects_.size());
        // In the finer grid whose cells it spans 64 or fewer of; else in the list of large ones.
        const auto file = [&](Cells& cells, double deg) {
            const auto r = cells_of(o.bbox, deg);
            if (r.count() > 64) return false;
            for (auto y = r.y0; y <= r.y1; ++y)
                for (auto x = r.x0; x <= r.x1; ++x) cells[cell(x, y)].push_back(i);
            return true;
        };
        if (!file(cells_, catalog_index_cell_deg) && !file(coarse_cells_, catalog_index_coarse_cell_deg)) large_.push_back(i);
        objects_.push_back(o);
    });
}

} // namespace skyscript::pipeline
