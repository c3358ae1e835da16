#include "pipeline/plan/surroundings.hpp"

#include "tag_filters/visible_tags.hpp"

#include <algorithm>

namespace skyscript::pipeline {

namespace {

// The rule of tags::visible_tags on the index's precomputed roles and GSDs.
bool visible_at(const CatalogIndex& index, const IndexedObject& o, double gsd) {
    for (const auto& t : index.tags(o))
        if (t.feature && tags::shown_at_gsd(t.max_gsd, gsd)) return true;
    return false;
}

double overlap_share(const osm::Box& b, const imagery::LonLatBox& t) {
    const double w = std::max(0.0, std::min(b.max_lon, t.east) - std::max(b.min_lon, t.west));
    const double h = std::max(0.0, std::min(b.max_lat, t.north) - std::max(b.min_lat, t.south));
    const double bw = b.max_lon - b.min_lon, bh = b.max_lat - b.min_lat;
    // A horizontal or vertical line has a flat box: measure it along its one dimension.
    const double sw = bw > 0 ? w / bw : 1, sh = bh > 0 ? h / bh : 1;
    return std::clamp(sw * sh, 0.0, 1.0);
}

} // namespace

TagPairs tags_visible_at(const CatalogIndex& index, const IndexedObject& o, double gsd) {
    TagPairs out;
    if (!visible_at(index, o, gsd)) return out;
    for (const auto& t : index.tags(o))
        if (tags::shown_at_gsd(t.max_gsd, gsd)) out.emplace_back(index.text(t.key), index.text(t.value));
    return out;
}

std::vector<TagPairs> find_surroundings(const CatalogIndex& index, const imagery::TileGrid& grid, std::int64_t focus_fid,
                                        std::size_t max_objects) {
    struct Found {
        double prominence;
        std::int64_t fid;
        std::uint32_t object;
    };
    std::vector<Found> found;
    const auto& t = grid.box;
    const auto& objects = index.objects();
    auto take = [&](std::uint32_t i) {
        const auto& o = objects[i];
        if (o.fid == focus_fid || !visible_at(index, o, grid.gsd)) return;
        const double share = overlap_share(o.bbox, t);
        const double p = o.kind == 'a' ? o.area_m2 * share : o.kind == 'w' ? o.length_m * share * 4.0 : 1.0;
        found.push_back({p, o.fid, i});
    };
    if (t.crosses_antimeridian()) {
        index.for_each_in({t.west, t.south, 180, t.north}, take);
        index.for_each_in({-180, t.south, t.east, t.north}, take);
    } else {
        index.for_each_in({t.west, t.south, t.east, t.north}, take);
    }
    const auto n = std::min(found.size(), max_objects);
    std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), found.end(), [](const Found& a, const Found& b) {
        return a.prominence != b.prominence ? a.prominence > b.prominence : a.fid < b.fid;
    });
    std::vector<TagPairs> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(tags_visible_at(index, objects[found[i].object], grid.gsd));
    return out;
}

} // namespace skyscript::pipeline
