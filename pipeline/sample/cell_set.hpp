#pragma once
// The world's 0.01 degree cells (the sampling cells of docs/sampling.md, numbered as cell_of
// numbers them) as ranges and as a set of one bit a cell: 648 M cells in 81 MB of address
// space, of which only the pages around set cells are ever touched.

#include "osm/catalog_row.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace skyscript::pipeline {

inline constexpr int cell_columns = 36000, cell_rows = 18000;

// Cells x0..x1, y0..y1 (inclusive) of the grid; a box past +-180 degrees takes every column.
struct CellBox {
    std::uint16_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    static CellBox of(const osm::Box& b);
    static CellBox cell(std::int64_t cell_id) {
        const auto x = static_cast<std::uint16_t>(cell_id % cell_columns), y = static_cast<std::uint16_t>(cell_id / cell_columns);
        return {x, y, x, y};
    }
    void add(const CellBox& o) {
        if (o.x0 < x0) x0 = o.x0;
        if (o.y0 < y0) y0 = o.y0;
        if (o.x1 > x1) x1 = o.x1;
        if (o.y1 > y1) y1 = o.y1;
    }
    std::uint64_t cells() const { return std::uint64_t(x1 - x0 + 1) * std::uint64_t(y1 - y0 + 1); }
};

class CellSet {
public:
    CellSet() : bits_(static_cast<std::uint64_t*>(std::calloc(words, sizeof(std::uint64_t)))) {
        if (!bits_) throw std::bad_alloc();
    }
    void insert(const CellBox& b) {
        for (std::uint32_t y = b.y0; y <= b.y1; ++y)
            for (std::uint32_t x = b.x0; x <= b.x1; ++x) {
                const auto i = std::uint64_t(y) * cell_columns + x;
                bits_.get()[i >> 6] |= 1ULL << (i & 63);
            }
    }
    // Adds one cell (a cell_of number); false when it was in already.
    bool insert(std::int64_t cell) {
        const auto i = static_cast<std::uint64_t>(cell);
        auto& word = bits_.get()[i >> 6];
        const auto bit = 1ULL << (i & 63);
        if (word & bit) return false;
        word |= bit;
        return true;
    }
    bool contains(std::int64_t cell) const {
        const auto i = static_cast<std::uint64_t>(cell);
        return bits_.get()[i >> 6] & (1ULL << (i & 63));
    }
    bool any_in(const CellBox& b) const {
        for (std::uint32_t y = b.y0; y <= b.y1; ++y)
            for (std::uint32_t x = b.x0; x <= b.x1; ++x) {
                const auto i = std::uint64_t(y) * cell_columns + x;
                if (bits_.get()[i >> 6] & (1ULL << (i & 63))) return true;
            }
        return false;
    }

    // Cells set in both.
    std::uint64_t count_common(const CellSet& o) const {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < words; ++i) n += static_cast<std::uint64_t>(__builtin_popcountll(bits_.get()[i] & o.bits_.get()[i]));
        return n;
    }

private:
    static constexpr std::size_t words = (std::size_t(cell_columns) * cell_rows + 63) / 64;
    struct Free {
        void operator()(std::uint64_t* p) const { std::free(p); }
    };
    std::unique_ptr<std::uint64_t, Free> bits_;
};

} // namespace skyscript::pipeline
