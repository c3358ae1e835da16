#include "pipeline/sample/sampler.hpp"

#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/seeded_hash.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace skyscript::pipeline {

namespace {

std::uint64_t candidate_hash(std::uint64_t seed, const Candidate& c) { return object_hash(seed, c.key); }

// Keeps the `n` candidates of `v` with the smallest hashes (a seeded draw without replacement).
void keep_smallest(std::vector<Candidate>& v, std::size_t n, std::uint64_t seed) {
    if (v.size() <= n) return;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(),
                     [&](const Candidate& a, const Candidate& b) { return candidate_hash(seed, a) < candidate_hash(seed, b); });
    v.resize(n);
}

} // namespace

std::int64_t cell_of(double lon, double lat) noexcept {
    // lon 180 and lat 90 belong to the last column and row, not to a cell past the grid.
    const auto x = std::min<std::int64_t>(35999, static_cast<std::int64_t>(std::floor((lon + 180.0) * 100.0)));
    const auto y = std::min<std::int64_t>(17999, static_cast<std::int64_t>(std::floor((lat + 90.0) * 100.0)));
    return y * 36000 + x;
}

std::uint64_t object_hash(std::uint64_t seed, std::uint64_t key) noexcept { return seeded_hash(seed, label_hash("object"), key); }

void draw_cells(std::vector<std::int64_t>& cells, std::int64_t n, std::uint64_t seed) {
    if (static_cast<std::int64_t>(cells.size()) <= n) return;
    const auto cell_hash = [&](std::int64_t cell) { return seeded_hash(seed, label_hash("cell"), static_cast<std::uint64_t>(cell)); };
    std::nth_element(cells.begin(), cells.begin() + n, cells.end(), [&](std::int64_t a, std::int64_t b) { return cell_hash(a) < cell_hash(b); });
    cells.resize(static_cast<std::size_t>(n));
}

SampleResult sample_candidates(std::vector<Candidate> all, std::size_t tag_count, const SamplingOptions& o) {
    SampleResult r;
    std::vector<Candidate> chosen;
    if (static_cast<std::int64_t>(all.size()) <= o.all_below) {
        chosen = std::move(all);
    } else {
        r.sampled_cells = true;
        std::vector<std::int64_t> cells;
        cells.reserve(all.size() / 4);
        for (const auto& c : all) cells.push_back(c.cell);
        std::sort(cells.begin(), cells.end());
        cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
        r.cells_total = static_cast<std::int64_t>(cells.size());
        draw_cells(cells, o.cells, o.seed);
        r.cells_chosen = static_cast<std::int64_t>(cells.size());
        const std::unordered_set<std::int64_t> in_sample(cells.begin(), cells.end());
        std::vector<Candidate> rest;
        for (const auto& c : all) (in_sample.count(c.cell) ? chosen : rest).push_back(c);
        // Rare tags: objects from anywhere, up to rare_min per tag.
        std::vector<std::int64_t> per_tag(tag_count, 0);
        for (const auto& c : chosen) ++per_tag[c.tag];
        std::vector<std::vector<Candidate>> extra(tag_count);
        for (const auto& c : rest)
            if (per_tag[c.tag] < o.rare_min) extra[c.tag].push_back(c);
        for (std::size_t t = 0; t < tag_count; ++t) {
            if (extra[t].empty()) continue;
            keep_smallest(extra[t], static_cast<std::size_t>(o.rare_min - per_tag[t]), o.seed);
            r.rare_added += static_cast<std::int64_t>(extra[t].size());
            chosen.insert(chosen.end(), extra[t].begin(), extra[t].end());
        }
    }
    if (o.max_per_tag > 0) {
        std::vector<std::vector<Candidate>> by_tag(tag_count);
        for (const auto& c : chosen) by_tag[c.tag].push_back(c);
        chosen.clear();
        for (auto& v : by_tag) {
            const auto before = v.size();
            keep_smallest(v, static_cast<std::size_t>(o.max_per_tag), o.seed);
            r.over_tag_cap += static_cast<std::int64_t>(before - v.size());
            chosen.insert(chosen.end(), v.begin(), v.end());
        }
    }
    if (o.limit > 0 && static_cast<std::int64_t>(chosen.size()) > o.limit) {
        r.over_limit = static_cast<std::int64_t>(chosen.size()) - o.limit;
        keep_smallest(chosen, static_cast<std::size_t>(o.limit), o.seed);
    }
    // Cell order keeps neighbours together (the surroundings queries hit warm pages);
    // the hash orders within a cell. Both are properties of the objects alone.
    std::sort(chosen.begin(), chosen.end(), [&](const Candidate& a, const Candidate& b) {
        if (a.cell != b.cell) return a.cell < b.cell;
        return candidate_hash(o.seed, a) < candidate_hash(o.seed, b);
    });
    r.chosen = std::move(chosen);
    return r;
}

SamplingOptions sampling_options(const BuildOptions& options) {
    SamplingOptions sampling;
    sampling.seed = static_cast<std::uint64_t>(options.integer("seed"));
    sampling.all_below = options.integer("all-below");
    sampling.cells = options.integer("cells");
    sampling.rare_min = options.integer("rare-min");
    sampling.max_per_tag = options.integer("max-per-tag");
    sampling.limit = options.integer("limit");
    if (sampling.cells < 0) throw UsageError("--cells must be >= 0 (0: rare-tag objects only)");
    return sampling;
}

} // namespace skyscript::pipeline
