#pragma once
// What a job is at one source: its tile, the focus object's tags visible at that GSD, the
// objects around it and the captions. The plan makes every job with it, and the fetch stage
// makes a job again with it when the job moves to its next source (source_fallback.hpp):
// one rule, so a job served by its second source is the job the plan would have made there.

#include "captions/caption_styles.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/plan/catalog_index.hpp"
#include "pipeline/plan/plan_options.hpp"
#include "pipeline/plan/visible_extent.hpp"
#include "pipeline/state/job.hpp"

#include <string>
#include <unordered_map>

namespace skyscript::pipeline {

// One a thread: place() keeps caches (the objects' geometries and pixels, the tile's clips).
class JobMaker {
public:
    // `catalog` gives the geometries of objects that cross a tile's edge (visible_extent.hpp).
    JobMaker(const CatalogIndex& index, CatalogReader& catalog, const PlanOptions& options);

    // Each source's part of the tile key (alias -> SourceKind::tile_key_part), made once by the
    // caller for every thread's maker: a local raster's part reads the file's size and time,
    // which must be the same for every job of a plan.
    void use_source_key_parts(std::unordered_map<std::string, std::string> parts) { source_key_parts_ = std::move(parts); }

    // Sets the job's source, grid, tile key, tags and captions for `object` at `source`.
    void place(Job& job, const IndexedObject& object, const BuildSource& source, const imagery::TileGrid& grid) const;

private:
    const CatalogIndex& index_;
    mutable VisibleExtent visible_;
    MinVisible min_visible_;
    std::size_t max_surrounding_;
    int jpeg_quality_;
    captions::CaptionStyles styles_;
    // Each source's part of the tile key, by alias: made once (a local raster's part reads the
    // file's size and time), not once a job.
    mutable std::unordered_map<std::string, std::string> source_key_parts_;
};

} // namespace skyscript::pipeline
