#pragma once
// The catalog in memory for planning: every object's light row, its groundable tags
// (parsed once, strings interned, each with its max GSD and role from the run's
// vocabulary), and a grid of 0.01 degree cells over their boxes. The planner asks it for
// candidates and for the objects around each tile: no SQL and no JSON per query, which
// made the surroundings three quarters of the plan stage's time. Objects whose box spans
// more than 64 cells are kept in a grid of cells 16 times wider (0.16 degree), and those that
// span more than 64 of these in one list checked by every query (a 64x extract had 383 such
// objects in the coarse list, which every one of its 232 K tiles' queries walked).

#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/tiles/tile_placement.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace skyscript::pipeline {

struct IndexedTag {
    std::uint32_t key, value; // string ids (CatalogIndex::text)
    float max_gsd;
    bool feature;
};

struct IndexedObject {
    std::int64_t fid = 0, osm_id = 0;
    char osm_type = 'n', kind = 'n';
    std::uint32_t focus_tag = 0; // string id of key=value
    double max_gsd = 0;
    double rep_lon = 0, rep_lat = 0, area_m2 = 0, length_m = 0;
    osm::Box bbox;
    std::uint32_t tags_begin = 0, tags_end = 0;
};

// Where an indexed object's tile may go (tiles/tile_placement.hpp).
FocusGeometry measure_focus(const IndexedObject& object, const std::vector<osm::Point>& line_vertices, std::uint64_t seed);
// The same, a line's vertices read from `catalog` (the plan's and the fallback's one rule).
FocusGeometry measure_focus(const IndexedObject& object, CatalogReader& catalog, std::uint64_t seed);

class CatalogIndex {
public:
    // threads > 1: the catalog read in that many runs of fids at once (fewer for a small
    // catalog: 2048 objects a run at least), each on a connection of its own, and joined in fid
    // order: the same index, object for object and string for string.
    CatalogIndex(CatalogReader& catalog, const tags::TagMatcher& matcher, int threads = 1);

    const std::vector<IndexedObject>& objects() const noexcept { return objects_; }
    std::span<const IndexedTag> tags(const IndexedObject& o) const { return {tags_.data() + o.tags_begin, o.tags_end - o.tags_begin}; }
    const std::string& text(std::uint32_t id) const { return strings_[id]; }

    // Calls fn(index into objects()) once for each object whose box meets `box`.
    template <typename F>
    void for_each_in(const osm::Box& box, F&& fn) const { for_each_in_any(std::span<const osm::Box>(&box, 1), fn); }
    // The same for the objects that meet any of `boxes`, each once (a tile across the
    // antimeridian is two boxes, and an object may meet both).
    template <typename F>
    void for_each_in_any(std::span<const osm::Box> boxes, F&& fn) const;

private:
    struct Part;
    void file_in_cells(std::uint32_t i);
    static std::int64_t cell(std::int64_t x, std::int64_t y) { return y * 40000 + x; }
    using Cells = std::unordered_map<std::int64_t, std::vector<std::uint32_t>>; // objects by cell
    // The cells of `deg` degrees a box spans: columns x0..x1, rows y0..y1.
    struct CellRange {
        std::int64_t x0, x1, y0, y1;
        std::int64_t count() const { return (x1 - x0 + 1) * (y1 - y0 + 1); }
    };
    static CellRange cells_of(const osm::Box& b, double deg) {
        return {static_cast<std::int64_t>((b.min_lon + 180) / deg), static_cast<std::int64_t>((b.max_lon + 180) / deg),
                static_cast<std::int64_t>((b.min_lat + 90) / deg), static_cast<std::int64_t>((b.max_lat + 90) / deg)};
    }

    std::vector<IndexedObject> objects_;
    std::vector<IndexedTag> tags_;
    std::vector<std::string> strings_;
    Cells cells_, coarse_cells_;
    std::vector<std::uint32_t> large_;
};

inline constexpr double catalog_index_cell_deg = 0.01;
inline constexpr double catalog_index_coarse_cell_deg = 0.16;

// Each object once without a mark per query (the index is read by the plan's threads at
// once): in a grid, an object is filed in every cell its box spans, so a walk takes it only in
// the first cell of its range and the query's that the walk reaches (row by row, the smallest
// column); an object already met by an earlier box of `boxes` is taken there.
template <typename F>
void CatalogIndex::for_each_in_any(std::span<const osm::Box> boxes, F&& fn) const {
    const auto met_before = [&](const osm::Box& o, std::size_t k) {
        for (std::size_t j = 0; j < k; ++j)
            if (o.intersects(boxes[j])) return true;
        return false;
    };
    for (auto i : large_)
        for (const auto& box : boxes)
            if (objects_[i].bbox.intersects(box)) {
                fn(i);
                break;
            }
    const auto walk = [&](const Cells& cells, double deg, std::size_t k) {
        const auto r = cells_of(boxes[k], deg);
        for (auto y = r.y0; y <= r.y1; ++y)
            for (auto x = r.x0; x <= r.x1; ++x)
                if (auto it = cells.find(cell(x, y)); it != cells.end())
                    for (auto i : it->second) {
                        const auto& b = objects_[i].bbox;
                        if (!b.intersects(boxes[k])) continue;
                        const auto o = cells_of(b, deg);
                        if (x != std::max(o.x0, r.x0) || y != std::max(o.y0, r.y0) || met_before(b, k)) continue;
                        fn(i);
                    }
    };
    for (std::size_t k = 0; k < boxes.size(); ++k) {
        walk(coarse_cells_, catalog_index_coarse_cell_deg, k);
        walk(cells_, catalog_index_cell_deg, k);
    }
}

} // namespace skyscript::pipeline
