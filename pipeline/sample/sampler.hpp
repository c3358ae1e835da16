#pragma once
// Which catalog objects become focus objects (docs/sampling.md). Small inputs (at most
// `all_below` candidates): every candidate. Larger ones, the paper's scheme: `cells`
// non-empty 0.01 x 0.01 degree cells drawn at random, every candidate in them; then for
// each focus tag with fewer than `rare_min` objects in that sample, more objects of the
// tag from anywhere, up to `rare_min`; then at most `max_per_tag` per focus tag; then
// `limit` objects at most. Every draw is a seeded hash (seeded_hash.hpp), so the result
// depends only on the candidates and the seed. For big inputs the extract makes the cell
// and rare-tag draws as it reads (read_sample.hpp) and the planner makes the rest.

#include "pipeline/common/build_options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct SamplingOptions {
    std::uint64_t seed = 1;
    std::int64_t all_below = 200000;
    std::int64_t cells = 400000;
    std::int64_t rare_min = 50;
    std::int64_t max_per_tag = 50000; // 0: no cap
    std::int64_t limit = 0;           // 0: no limit
};

// --seed, --all-below, --cells, --rare-min, --max-per-tag and --limit, checked.
SamplingOptions sampling_options(const BuildOptions& options);

struct Candidate {
    std::uint32_t object = 0; // the caller's index of the object
    std::uint64_t key = 0;    // object_key(osm_type, osm_id)
    std::uint32_t tag = 0;   // index of the focus tag
    std::int64_t cell = 0;   // 0.01 degree cell of the representative point
};

// The 0.01 degree cell of a representative point: y * 36000 + x, from (-180, -90).
std::int64_t cell_of(double lon, double lat) noexcept;
// The hash that orders objects in every draw of them (rare tags, caps, the limit).
std::uint64_t object_hash(std::uint64_t seed, std::uint64_t key) noexcept;
// The cell draw: keeps the `n` of `cells` (distinct) with the smallest seeded hashes, in no order.
void draw_cells(std::vector<std::int64_t>& cells, std::int64_t n, std::uint64_t seed);

struct SampleResult {
    std::vector<Candidate> chosen; // in a deterministic order: by cell, then by hash
    bool sampled_cells = false;    // false: the input was small, every candidate taken
    std::int64_t cells_total = 0, cells_chosen = 0, rare_added = 0, over_tag_cap = 0, over_limit = 0;
};

SampleResult sample_candidates(std::vector<Candidate> candidates, std::size_t tag_count, const SamplingOptions& options);

} // namespace skyscript::pipeline
