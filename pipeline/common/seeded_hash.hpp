#pragma once
// Every random choice of a build (sampled cells, subsets, the source under
// --source-policy random, a line's vertex, the tile offset) is a hash of the seed and of
// what is being chosen for -- never a stream of draws -- so it does not depend on the
// order objects are read in, on the machine, or on what else is in the input: an
// unchanged object gets the same choices in a rebuild (docs/sampling.md, "Determinism").

#include <cstdint>
#include <string_view>

namespace skyscript::pipeline {

// splitmix64's finaliser: a well-mixed 64-bit hash of one value.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

constexpr std::uint64_t seeded_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) noexcept {
    return mix64(mix64(mix64(seed) ^ a) ^ b);
}

// FNV-1a of a short label ("offset-x", an alias), to name what a hash is for.
constexpr std::uint64_t label_hash(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return h;
}

// An OSM object as one number: type in the top byte, id below (ids are < 2^56).
constexpr std::uint64_t object_key(char osm_type, std::int64_t osm_id) noexcept {
    return (static_cast<std::uint64_t>(static_cast<unsigned char>(osm_type)) << 56) ^ static_cast<std::uint64_t>(osm_id);
}

// A hash as a number in [0, 1).
constexpr double unit_interval(std::uint64_t h) noexcept { return static_cast<double>(h >> 11) * 0x1.0p-53; }

} // namespace skyscript::pipeline
