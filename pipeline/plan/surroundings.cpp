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
        auto v = visible.measure(o, grid);
        if (v.margin > 0 && !min.enough(o.kind, v.px - v.margin) && min.enough(o.kind, v.px + v.margin)) v = visible.measure_exact(o, grid);
        if (!min.enough(o.kind, v.px)) return;
        found.push_back({prominence(o.kind, v.px), o.fid, i, v});
    };
    if (t.crosses_antimeridian()) { // one query of both halves: an object meeting both is taken once
        const osm::Box halves[] = {{t.west, t.south, 180, t.north}, {-180, t.south, t.east, t.north}};
        index.for_each_in_any(halves, take);
    } else {
        index.for_each_in({t.west, t.south, t.east, t.north}, take);
    }
    const auto n = std::min(found.size(), max_objects);
    const auto by_prominence = [](const Found& a, const Found& b) { return a.prominence != b.prominence ? a.prominence > b.prominence : a.fid < b.fid; };
    // In order, the first n + 1 (the (n+1)th tells where the first n end). Where neighbours there
    // are closer than twice the widest margin (and on past the nth while such neighbours follow),
    // those measured within a margin are measured exactly; then all are put in order again.
    // (Two that exact measures would order otherwise differ by less than their rounding, far
    // less than a margin, and so does every pair of neighbours between them.)
    auto ranked = std::min(found.size(), n + 1);
    std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(ranked), found.end(), by_prominence);
    double widest = 0;
    for (const auto& f : found) widest = std::max(widest, f.visible.margin > 0 ? prominence(objects[f.object].kind, f.visible.margin) : 0.0);
    bool remeasured = false, near = false;
    for (std::size_t i = 0; widest > 0 && i + 1 < found.size(); ++i) {
        if (i >= n && !near) break;
        if (i + 1 >= ranked) { // the rest are no more prominent: in order too
            std::sort(found.begin() + static_cast<std::ptrdiff_t>(ranked), found.end(), by_prominence);
            ranked = found.size();
        }
        near = found[i].prominence - found[i + 1].prominence <= 2 * widest;
        if (!near) continue;
        for (auto* f : {&found[i], &found[i + 1]})
            if (f->visible.margin > 0) {
                f->visible = visible.measure_exact(objects[f->object], grid);
                f->prominence = prominence(objects[f->object].kind, f->visible.px);
                remeasured = true;
            }
    }
    if (remeasured) std::sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(ranked), by_prominence);
    std::vector<Surrounding> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back({&objects[found[i].object], tags_visible_at(index, objects[found[i].object], grid.gsd), found[i].visible});
    return out;
}

} // namespace skyscript::pipeline
