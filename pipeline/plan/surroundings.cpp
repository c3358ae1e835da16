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

} // namespace

TagViews tags_visible_at(const CatalogIndex& index, const IndexedObject& o, double gsd) {
    TagViews out;
    if (!visible_at(index, o, gsd)) return out;
    for (const auto& t : index.tags(o))
        if (tags::shown_at_gsd(t.max_gsd, gsd)) out.push_back({index.text(t.key), index.text(t.value)});
    return out;
}

std::vector<Surrounding> find_surroundings(const CatalogIndex& index, VisibleExtent& visible, const imagery::TileGrid& grid,
                                           std::int64_t focus_fid, const MinVisible& min, std::size_t max_objects) {
    struct Found {
        double prominence;
        std::int64_t fid;
        std::uint32_t object;
        Visible visible;
    };
    std::vector<Found> found;
    const auto& t = grid.box;
    const auto& objects = index.objects();
    const auto prominence = [&](char kind, double px) { return kind == 'a' ? px * grid.gsd * grid.gsd : kind == 'w' ? px * grid.gsd * 4.0 : 1.0; };
    auto take = [&](std::uint32_t i) {
        const auto& o = objects[i];
        if (o.fid == focus_fid || !visible_at(index, o, grid.gsd)) return;
        const auto v = visible.measure(o, grid);
        if (!min.enough(o.kind, v.px)) return;
        found.push_back({prominence(o.kind, v.px), o.fid, i, v});
    };
    if (t.crosses_antimeridian()) { // one query of both halves: an object meeting both is taken once
        const osm::Box halves[] = {{t.west, t.south, 180, t.north}, {-180, t.south, t.east, t.north}};
        index.for_each_in_any(halves, take);
    } else {
        index.for_each_in({t.west, t.south, t.east, t.north}, take);
    }
    // The first n by prominence (then fid: a total order, so the same n in the same order whatever the query's).
    const auto n = std::min(found.size(), max_objects);
    const auto by_prominence = [](const Found& a, const Found& b) { return a.prominence != b.prominence ? a.prominence > b.prominence : a.fid < b.fid; };
    std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), found.end(), by_prominence);
    std::vector<Surrounding> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back({&objects[found[i].object], tags_visible_at(index, objects[found[i].object], grid.gsd), found[i].visible});
    return out;
}

} // namespace skyscript::pipeline
