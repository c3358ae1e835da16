#pragma once
// Sampling as the extract reads, for inputs too big for a full catalog (docs/sampling.md;
// the planet's catalog is the sampled one). Two reads of the input:
//  1. SampleSurvey keeps no row. It makes the planner's cell draw on the fly: the drawn
//     cells are the `cells` non-empty cells of smallest seeded hash (sampler.hpp), so a
//     cell that is not among the smallest so far when its first object comes never will
//     be. For the cells that still may be it keeps the count of objects by focus tag and
//     the box their tiles can reach (plan/tile_reach.hpp); for every focus tag, the
//     `rare_min` objects of smallest object hash. draw() then knows the focus candidates:
//     the drawn cells' objects and, for tags with fewer than `rare_min` of them, the
//     rare-tag objects the planner would add; and it marks the cells their tiles can reach.
//     What the second read needs is kept as it goes: every row whole (osm::RowSpill) when
//     the scratch disk has room for them, or else only each row's object, box and cell
//     (RowMarks), from which select() names the rows the second read is to make.
//  2. SampleFilter passes on to the catalog writer the rows whose box meets such a reach box
//     (every object a sampled tile can show) and notes the focus candidates' fids. The rows
//     come from the first read's spill (no second read of the input), or from a second
//     read that makes only those rows (osm::ObjectSelection: no other object is built, no
//     node location stored again, no node blob of a PBF read).
// The planner then draws from these focus candidates what it would have drawn from the
// full catalog (the per-tag cap and the limit), and finds the same surroundings: rows keep
// their full-catalog fids (osm::CatalogRow::fid), so equal prominence ties break alike.
// Memory: a bit per cell of the world (81 MB of address space), the drawn cells and
// rare_min objects per focus tag -- bounded by the sample, not by the input.

#include "osm/object_selection.hpp"
#include "osm/row_spill.hpp"
#include "pipeline/sample/cell_set.hpp"
#include "pipeline/sample/reach_index.hpp"
#include "pipeline/sample/row_marks.hpp"
#include "pipeline/sample/sampler.hpp"
#include "pipeline/tiles/tile_placement.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace skyscript::pipeline {

// The catalog meta key of the coarsest source GSD the sample's reach was drawn for: a plan
// whose sources go coarser would look for surroundings the catalog does not keep.
inline constexpr const char* sample_coarsest_gsd_key = "sample coarsest-source-gsd";

struct ReadSample {
    bool everything = false; // at most all_below candidates: the planner takes all, keep every row
    std::int64_t candidates = 0, cells_total = 0, cells_chosen = 0, rare_added = 0;
    std::int64_t cells_reached = 0; // non-empty cells the boxes of `keep` touch: about the catalog's share of the input
    std::unordered_set<std::int64_t> chosen_cells;
    std::unordered_set<std::uint64_t> rare_keys; // object_key of the rare-tag focus candidates
    std::unique_ptr<ReachIndex> keep;            // where sampled tiles can reach: the catalog's objects meet it

    // Whether the catalog keeps the row of this object (cell of its representative point,
    // its box); whether it is a focus candidate (kept then). Not for `everything`.
    bool keeps(std::int64_t cell, std::uint64_t key, const osm::Box& box) const;
    bool focus(std::int64_t cell, std::uint64_t key) const;
};

class SampleSurvey : public osm::RowSink {
public:
    // `coarsest_source_gsd`: of the sources the plan will use (tile_reach). What the second
    // read needs goes to scratch files in `scratch_dir`: every row when `keep_rows`, else
    // the rows' marks.
    SampleSurvey(const SamplingOptions& sampling, const PlacementOptions& placement, double coarsest_source_gsd, const std::string& scratch_dir,
                 bool keep_rows);
    ~SampleSurvey() override;

    // Keeping every row: the row as the scratch file holds it, made on the worker (its fid is
    // not known yet: set when added), and what wants() does not read (its tags, WKB) freed there.
    void prepare(osm::CatalogRow& row) const override;
    bool wants(const osm::CatalogRow& head, std::span<const osm::Point> vertices) override;
    void consume(std::vector<osm::CatalogRow>&&) override {}

    ReadSample draw();
    // After draw(), for a sample that is not `everything`, without keep_rows: the rows the
    // catalog keeps.
    osm::ObjectSelection select(const ReadSample& sample);
    // With keep_rows: every row the first read made, in order, with its fid.
    osm::RowSpill* rows() noexcept { return rows_.get(); }

private:
    struct DrawableCell;
    struct RarePick;
    std::uint32_t tag_id(const std::string& focus_tag);

    SamplingOptions sampling_;
    PlacementOptions placement_;
    double coarsest_source_gsd_;
    std::int64_t candidates_ = 0, cells_total_ = 0;
    std::unique_ptr<CellSet> nonempty_;
    std::unordered_map<std::int64_t, DrawableCell> drawable_;   // the smallest-hash cells so far
    std::vector<std::pair<std::uint64_t, std::int64_t>> by_hash_; // max-heap of (hash, cell) over drawable_
    std::unordered_map<std::string, std::uint32_t> tag_ids_;
    std::vector<std::vector<RarePick>> picks_; // per tag: a max-heap by hash, at most rare_min
    std::unique_ptr<RowMarks> marks_;
    std::unique_ptr<osm::RowSpill> rows_;
};

// The rows it is given are those keeps() takes: chosen by their heads as a spill of every row
// is read back, or by the ObjectSelection the same test made (a second read). It prepares and
// passes them on, and notes which are focus candidates.
class SampleFilter : public osm::RowSink {
public:
    SampleFilter(const ReadSample& sample, osm::RowSink& out) : sample_(sample), out_(out) {}

    bool wants(const osm::CatalogRow& head, std::span<const osm::Point> vertices) override;
    // Whether the catalog keeps the row: its head decides (no tags, WKB or vertices), so a
    // spill read back drops the others on its workers.
    bool keeps(const osm::CatalogRow& head) const;
    void prepare(osm::CatalogRow& row) const override;
    void consume(std::vector<osm::CatalogRow>&& batch) override { out_.consume(std::move(batch)); }
    std::vector<osm::CatalogRow> spare_batch() override { return out_.spare_batch(); }

    // The focus candidates' fids, ascending (after the read).
    const std::vector<std::int64_t>& focus_fids() const { return focus_; }

private:
    const ReadSample& sample_;
    osm::RowSink& out_;
    std::vector<std::int64_t> focus_;
};

} // namespace skyscript::pipeline
