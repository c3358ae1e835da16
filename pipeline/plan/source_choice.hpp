#pragma once
// Which sources may image a focus object, and which of them it gets (docs/sampling.md).
// A source is eligible when the object lies in its coverage, its GSD is at most the focus
// tag's max GSD, (areas) the tile side lies within [min_px, max_px] pixels, and the whole
// tile lies inside the coverage. The eligible, in the policy's order: `finest` (smallest GSD,
// then the earlier source), `random` (a seeded rotation by object), or `all` (one job each).
// Under finest and random the first is asked and the others are the job's fallbacks, in
// that order (source_fallback.hpp). An object no source takes is skipped with the reason
// of the source that came closest (the check it failed latest).

#include "pipeline/common/build_sources.hpp"
#include "pipeline/tiles/tile_placement.hpp"

#include <string>
#include <vector>

namespace skyscript::pipeline {

enum class SourcePolicy { finest, random, all };
SourcePolicy parse_source_policy(const std::string& text); // UsageError naming --source-policy

struct SourceChoice {
    const BuildSource* source = nullptr;
    imagery::TileGrid grid;
};

struct ChoiceResult {
    std::vector<SourceChoice> chosen; // every eligible source in the policy's order; empty: skipped for `skip_reason`
    std::string skip_reason;
};

// The skip reasons, in the order of the checks (the report counts objects by them).
inline constexpr const char* skip_outside_coverage = "outside every source's coverage";
inline constexpr const char* skip_gsd_too_coarse = "every covering source is too coarse for its tag";
inline constexpr const char* skip_too_small = "too small for every source";
inline constexpr const char* skip_too_large = "too large for every source";
inline constexpr const char* skip_tile_leaves_coverage = "its tile leaves every source's coverage";

ChoiceResult choose_sources(const FocusGeometry& focus, double max_gsd, const std::vector<BuildSource>& sources,
                            SourcePolicy policy, const PlacementOptions& placement);

} // namespace skyscript::pipeline
