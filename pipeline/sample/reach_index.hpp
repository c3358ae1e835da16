#pragma once
// The boxes sampled tiles can reach (plan/tile_reach.hpp), asked "does this object's box
// meet one of them?" for every object of the input's second read. A bit per 0.01 degree
// cell answers most objects (their cells hold no box); the others are tested against the
// boxes registered in their cells, so an object is kept only when it really meets a box,
// not just a cell one does (which kept about five times as many).

#include "pipeline/sample/cell_set.hpp"

#include <utility>
#include <vector>

namespace skyscript::pipeline {

class ReachIndex {
public:
    // A box may reach past +-180 degrees of longitude: the part beyond is taken around.
    void add(const osm::Box& box);
    // After the last add(), before meets().
    void seal();
    bool meets(const osm::Box& box) const;
    // The cells any box touches.
    const CellSet& cells() const { return cells_; }

private:
    void add_one(const osm::Box& box);

    CellSet cells_;
    std::vector<osm::Box> boxes_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> by_cell_; // (cell, box), sorted
};

} // namespace skyscript::pipeline
