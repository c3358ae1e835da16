#include "pipeline/plan/source_choice.hpp"

#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/seeded_hash.hpp"
#include "tag_filters/visible_tags.hpp"

#include <algorithm>

namespace skyscript::pipeline {

SourcePolicy parse_source_policy(const std::string& text) {
    if (text == "finest") return SourcePolicy::finest;
    if (text == "random") return SourcePolicy::random;
    if (text == "all") return SourcePolicy::all;
    throw UsageError("--source-policy: expected finest, random or all, got `" + text + "`");
}

namespace {

bool box_inside(const imagery::LonLatBox& tile, const imagery::SourceConfig& s) {
    return s.covers_box(tile);
}

} // namespace

ChoiceResult choose_sources(const FocusGeometry& focus, double max_gsd, const std::vector<BuildSource>& sources,
                            SourcePolicy policy, const PlacementOptions& placement) {
    static const char* const reasons[] = {skip_outside_coverage, skip_gsd_too_coarse, skip_too_small, skip_tile_leaves_coverage};
    int furthest = -1;
    const char* reason = skip_outside_coverage;
    auto failed = [&](int stage, const char* why) {
        if (stage > furthest) furthest = stage, reason = why;
    };
    struct Candidate {
        const BuildSource* source;
        long side_px;
    };
    std::vector<Candidate> eligible;
    for (const auto& s : sources) {
        if (!s.config.covers(focus.lon, focus.lat)) { failed(0, reasons[0]); continue; }
        if (!tags::shown_at_gsd(max_gsd, s.gsd)) { failed(1, reasons[1]); continue; }
        const long px = tile_side_px(focus, s.gsd, placement);
        if (focus.kind == 'a' && px < placement.min_px) { failed(2, skip_too_small); continue; }
        if (focus.kind == 'a' && px > placement.max_px) { failed(2, skip_too_large); continue; }
        eligible.push_back({&s, px});
    }
    ChoiceResult result;
    if (policy == SourcePolicy::finest)
        std::stable_sort(eligible.begin(), eligible.end(), [](const Candidate& a, const Candidate& b) { return a.source->gsd < b.source->gsd; });
    else if (policy == SourcePolicy::random && !eligible.empty())
        std::rotate(eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(seeded_hash(placement.seed, label_hash("source"), focus.key) % eligible.size()),
                    eligible.end());
    for (const auto& c : eligible) {
        auto grid = place_tile(focus, c.source->gsd, c.side_px, placement);
        if (!box_inside(grid.box, c.source->config)) { failed(3, reasons[3]); continue; }
        result.chosen.push_back({c.source, std::move(grid)});
    }
    if (result.chosen.empty()) result.skip_reason = reason;
    return result;
}

} // namespace skyscript::pipeline
