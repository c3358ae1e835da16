#include "pipeline/sample/reach_index.hpp"


#include <algorithm>

namespace skyscript::pipeline {

namespace {

// Boxes of more cells than this (2.56 x 2.56 degrees) meet without looking at their cells.
constexpr std::uint64_t cells_looked_at = 1 << 16;

template <typename F>
void for_each_cell(const CellBox& c, F&& fn) {
    for (std::uint32_t y = c.y0; y <= c.y1; ++y)
        for (std::uint32_t x = c.x0; x <= c.x1; ++x) fn(y * std::uint32_t(cell_columns) + x);
}

} // namespace

void ReachIndex::add(const osm::Box& b) {
    if (b.min_lon < -180) add_one({b.min_lon + 360, b.min_lat, 180, b.max_lat});
    if (b.max_lon > 180) add_one({-180, b.min_lat, b.max_lon - 360, b.max_lat});
    add_one({std::max(b.min_lon, -180.0), b.min_lat, std::min(b.max_lon, 180.0), b.max_lat});
}

void ReachIndex::add_one(const osm::Box& b) {
    const auto index = static_cast<std::uint32_t>(boxes_.size());
    boxes_.push_back(b);
    const auto cells = CellBox::of(b);
    cells_.insert(cells);
    for_each_cell(cells, [&](std::uint32_t cell) { by_cell_.emplace_back(cell, index); });
}

void ReachIndex::seal() {
    std::sort(by_cell_.begin(), by_cell_.end());
    by_cell_.erase(std::unique(by_cell_.begin(), by_cell_.end()), by_cell_.end());
    by_cell_.shrink_to_fit();
}

bool ReachIndex::meets(const osm::Box& box) const {
    const auto cells = CellBox::of(box);
    if (cells.cells() > cells_looked_at) return true;
    if (!cells_.any_in(cells)) return false;
    bool met = false;
    for_each_cell(cells, [&](std::uint32_t cell) {
        if (met || !cells_.contains(cell)) return;
        auto it = std::lower_bound(by_cell_.begin(), by_cell_.end(), std::pair<std::uint32_t, std::uint32_t>{cell, 0});
        for (; it != by_cell_.end() && it->first == cell && !met; ++it) met = boxes_[it->second].intersects(box);
    });
    return met;
}

} // namespace skyscript::pipeline
