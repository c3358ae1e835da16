#include "pipeline/sample/read_sample.hpp"

#include "pipeline/common/seeded_hash.hpp"
#include "pipeline/tiles/tile_reach.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace skyscript::pipeline {

namespace {

std::uint64_t cell_hash(std::uint64_t seed, std::int64_t cell) { return seeded_hash(seed, label_hash("cell"), static_cast<std::uint64_t>(cell)); }

} // namespace

struct SampleSurvey::DrawableCell {
    std::optional<osm::Box> reach; // the union of its objects' tile reach
    std::vector<std::pair<std::uint32_t, std::int64_t>> per_tag; // (tag, objects)
};

struct SampleSurvey::RarePick {
    std::uint64_t hash = 0, key = 0;
    std::int64_t cell = 0;
    std::optional<osm::Box> reach;
    bool operator<(const RarePick& o) const { return hash < o.hash; }
};

SampleSurvey::SampleSurvey(const SamplingOptions& sampling, const PlacementOptions& placement, double coarsest_source_gsd,
                           const std::string& scratch_dir, bool keep_rows)
    : sampling_(sampling), placement_(placement), coarsest_source_gsd_(coarsest_source_gsd), nonempty_(std::make_unique<CellSet>()) {
    if (keep_rows) rows_ = std::make_unique<osm::RowSpill>(scratch_dir);
    else marks_ = std::make_unique<RowMarks>(scratch_dir);
}

SampleSurvey::~SampleSurvey() = default;

std::uint32_t SampleSurvey::tag_id(const std::string& focus_tag) {
    const auto [it, added] = tag_ids_.try_emplace(focus_tag, static_cast<std::uint32_t>(tag_ids_.size()));
    if (added) picks_.emplace_back();
    return it->second;
}

void SampleSurvey::prepare(osm::CatalogRow& row) const {
    if (!rows_) return;
    row.stored.clear();
    osm::RowSpill::serialize(row, row.stored);
    std::string().swap(row.wkb);
    std::string().swap(row.tags_json);
}

bool SampleSurvey::wants(const osm::CatalogRow& head, std::span<const osm::Point> vertices) {
    ++candidates_;
    const auto cell = cell_of(head.rep_lon, head.rep_lat);
    const auto tag = tag_id(head.focus_tag);
    const auto reach = tile_reach(head, vertices, placement_, coarsest_source_gsd_);
    if (rows_ && !head.stored.empty()) rows_->add_serialized(head.stored, head.fid); // made by prepare()
    else if (rows_) rows_->add(head); // whole: the builder made its WKB before asking
    else marks_->add({head.bbox, head.osm_id, static_cast<std::uint32_t>(cell), head.osm_type});

    // The cell draw as it goes: a new cell joins the smallest `cells` hashes or is never drawn.
    if (nonempty_->insert(cell)) {
        ++cells_total_;
        const auto h = cell_hash(sampling_.seed, cell);
        const auto n = static_cast<std::size_t>(std::max<std::int64_t>(sampling_.cells, 0));
        if (by_hash_.size() < n || (n > 0 && h < by_hash_.front().first)) {
            if (by_hash_.size() == n) {
                std::pop_heap(by_hash_.begin(), by_hash_.end());
                drawable_.erase(by_hash_.back().second);
                by_hash_.pop_back();
            }
            by_hash_.emplace_back(h, cell);
            std::push_heap(by_hash_.begin(), by_hash_.end());
            drawable_.emplace(cell, DrawableCell{});
        }
    }
    if (const auto it = drawable_.find(cell); it != drawable_.end()) {
        auto& d = it->second;
        if (reach && d.reach) d.reach->add(*reach);
        else if (reach) d.reach = reach;
        auto t = std::find_if(d.per_tag.begin(), d.per_tag.end(), [&](const auto& p) { return p.first == tag; });
        if (t == d.per_tag.end()) d.per_tag.emplace_back(tag, 1);
        else ++t->second;
    }
    // The tag's rare_min smallest object hashes so far (a max-heap): whatever cells are drawn,
    // the objects the rare-tag draw takes from outside them are among these.
    if (sampling_.rare_min > 0) {
        auto& heap = picks_[tag];
        const auto key = object_key(head.osm_type, head.osm_id);
        const RarePick pick{object_hash(sampling_.seed, key), key, cell, reach};
        if (static_cast<std::int64_t>(heap.size()) < sampling_.rare_min) {
            heap.push_back(pick);
            std::push_heap(heap.begin(), heap.end());
        } else if (pick < heap.front()) {
            std::pop_heap(heap.begin(), heap.end());
            heap.back() = pick;
            std::push_heap(heap.begin(), heap.end());
        }
    }
    return false;
}

ReadSample SampleSurvey::draw() {
    ReadSample s;
    s.candidates = candidates_;
    if (candidates_ <= sampling_.all_below) {
        s.everything = true;
        return s;
    }
    s.cells_total = cells_total_;
    s.cells_chosen = static_cast<std::int64_t>(drawable_.size());
    s.keep = std::make_unique<ReachIndex>();
    std::vector<std::int64_t> in_cells(picks_.size(), 0);
    for (const auto& [cell, d] : drawable_) {
        s.chosen_cells.insert(cell);
        if (d.reach) s.keep->add(*d.reach);
        for (const auto& [tag, n] : d.per_tag) in_cells[tag] += n;
    }
    // The sampler's rare-tag step (sampler.cpp): tags with fewer than rare_min objects in the
    // drawn cells take the objects of smallest hash from outside them, up to rare_min.
    for (std::size_t tag = 0; tag < picks_.size(); ++tag) {
        auto& heap = picks_[tag];
        std::sort_heap(heap.begin(), heap.end());
        std::int64_t have = in_cells[tag];
        for (const auto& p : heap) {
            if (have >= sampling_.rare_min) break;
            if (s.chosen_cells.count(p.cell)) continue;
            s.rare_keys.insert(p.key);
            if (p.reach) s.keep->add(*p.reach);
            ++have;
            ++s.rare_added;
        }
    }
    s.keep->seal();
    s.cells_reached = static_cast<std::int64_t>(s.keep->cells().count_common(*nonempty_));
    return s;
}

bool ReadSample::focus(std::int64_t cell, std::uint64_t key) const { return chosen_cells.count(cell) || rare_keys.count(key); }

bool ReadSample::keeps(std::int64_t cell, std::uint64_t key, const osm::Box& box) const { return focus(cell, key) || keep->meets(box); }

osm::ObjectSelection SampleSurvey::select(const ReadSample& sample) {
    osm::ObjectSelection only;
    if (!marks_) throw std::logic_error("SampleSurvey::select: the rows were kept whole");
    marks_->for_each([&](const RowMark& m, std::int64_t fid) {
        if (sample.keeps(m.cell, object_key(m.osm_type, m.osm_id), m.box)) only.add(m.osm_type, m.osm_id, fid);
    });
    only.sort();
    return only;
}

bool SampleFilter::keeps(const osm::CatalogRow& head) const {
    return sample_.everything || sample_.keeps(cell_of(head.rep_lon, head.rep_lat), object_key(head.osm_type, head.osm_id), head.bbox);
}

void SampleFilter::prepare(osm::CatalogRow& row) const { out_.prepare(row); }

bool SampleFilter::wants(const osm::CatalogRow& head, std::span<const osm::Point> vertices) {
    if (!sample_.everything && sample_.focus(cell_of(head.rep_lon, head.rep_lat), object_key(head.osm_type, head.osm_id)))
        focus_.push_back(head.fid); // fids come in ascending order
    return out_.wants(head, vertices);
}

} // namespace skyscript::pipeline
