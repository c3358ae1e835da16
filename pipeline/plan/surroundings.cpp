#include "surroundings.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace skyscript::pipeline {

TagPairs tags_visible_at(const std::string& tags_json, const tags::TagMatcher& matcher, double gsd) {
    TagPairs out;
    bool feature = false;
    const auto j = nlohmann::ordered_json::parse(tags_json);
    for (const auto& [k, v] : j.items()) {
        const auto value = v.get<std::string>();
        const auto* e = matcher.find(k, value);
        if (!e || e->max_gsd < gsd * (1 - 1e-9)) continue;
        feature = feature || e->role == tags::Role::feature;
        out.emplace_back(k, value);
    }
    if (!feature) out.clear();
    return out;
}

namespace {

double overlap_share(const osm::Box& b, const imagery::LonLatBox& t) {
    const double w = std::max(0.0, std::min(b.max_lon, t.east) - std::max(b.min_lon, t.west));
    const double h = std::max(0.0, std::min(b.max_lat, t.north) - std::max(b.min_lat, t.south));
    const double bw = b.max_lon - b.min_lon, bh = b.max_lat - b.min_lat;
    // A horizontal or vertical line has a flat box: measure it along its one dimension.
    const double sw = bw > 0 ? w / bw : 1, sh = bh > 0 ? h / bh : 1;
    return std::clamp(sw * sh, 0.0, 1.0);
}

} // namespace

Surroundings find_surroundings(CatalogReader& catalog, const tags::TagMatcher& matcher, const imagery::TileGrid& grid,
                               std::int64_t focus_fid, std::size_t max_objects) {
    struct Found {
        double prominence;
        std::int64_t fid;
        TagPairs tags;
    };
    std::vector<Found> found;
    const auto& t = grid.box;
    auto take = [&](const CatalogObject& o) {
        if (o.fid == focus_fid) return;
        auto tags = tags_visible_at(o.tags, matcher, grid.gsd);
        if (tags.empty()) return;
        const double share = overlap_share(o.bbox, t);
        const double p = o.kind == 'a' ? o.area_m2 * share : o.kind == 'w' ? o.length_m * share * 4.0 : 1.0;
        found.push_back({p, o.fid, std::move(tags)});
    };
    if (t.crosses_antimeridian()) {
        catalog.intersecting({t.west, t.south, 180, t.north}, take);
        catalog.intersecting({-180, t.south, t.east, t.north}, take);
    } else {
        catalog.intersecting({t.west, t.south, t.east, t.north}, take);
    }
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
        return a.prominence != b.prominence ? a.prominence > b.prominence : a.fid < b.fid;
    });
    Surroundings s;
    for (std::size_t i = 0; i < found.size() && i < max_objects; ++i) s.objects.push_back(std::move(found[i].tags));
    return s;
}

} // namespace skyscript::pipeline
