#pragma once
// PBF → catalog rows: pass 1 collects multipolygon relations, pass 2 reads nodes
// (locations into the node index) and ways, builds lines and assembles areas, the rows of
// each block of the file on worker threads (osm/way_workers.hpp) and in reading order.
// Objects the hidden rules call invisible from above are counted and left out.

#include "osm/catalog_row.hpp"
#include "osm/extract_stats.hpp"
#include "osm/object_selection.hpp"
#include "osm/row_spill.hpp"
#include "osm/spatial_filter.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <osmium/io/file.hpp>
#include <stdexcept>
#include <string>

namespace skyscript::osm {

// Anything wrong with the input file; what() starts with the file name.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ExtractProgress {
    // What the run is doing; a dense index is filled before pass 2, which can take
    // minutes on its own for large node ids.
    enum class Phase { relations, node_index, nodes_and_ways };
    Phase phase = Phase::relations;
    std::uint64_t done = 0;  // reading: input bytes of both passes, pass 1 weighted 1/5;
    std::uint64_t total = 0; // node_index: bytes of the index filled
    std::uint64_t objects = 0; // catalog objects so far
};

// The node index a read filled, kept for a second read of the same file (extractor.cpp).
class NodeLocations;
struct NodeLocationsDeleter {
    void operator()(NodeLocations* p) const noexcept;
};

// What a first read keeps for a second read of the same file (sampling in the read, issue
// 25): its node index, and its point rows (the second then reads no node blob of a PBF
// sorted by type, most of its bytes).
struct FirstRead {
    std::unique_ptr<NodeLocations, NodeLocationsDeleter> locations;
    std::unique_ptr<RowSpill> points;
};

struct ExtractOptions {
    std::string input;
    // auto | flex_mem | sparse_file_array | dense_file_array (see choose_node_index)
    std::string node_index = "auto";
    std::string scratch_dir = "."; // where file-backed indexes live during the run
    // For dense_file_array: the largest node id (largest_node_id()), to fill the index in
    // one visible phase; 0 lets it grow as ids come.
    std::uint64_t largest_node_id = 0;
    const SpatialFilter* region = nullptr;
    // Pass 2's way workers (osm/way_workers.hpp); 1: every object on the reading thread.
    // The catalog is the same whatever the count. It bounds the blobs' decoders too
    // (decoder_threads.hpp): a run given N cores keeps to them.
    int threads = 1;
    std::function<void(const ExtractProgress&)> on_progress;
    // Sampling in the read (issue 25): a first read fills *keep_for_second when set (its
    // point rows in a scratch file in scratch_dir). A second read of the same file given it
    // (second_of) stores no node location, makes its point rows from the first read's and
    // reads only the ways of a PBF sorted by type; with `only`, it makes the rows of those
    // objects alone, numbered as the first read numbered them (pass 1 adds the selected
    // relations' member ways to it).
    FirstRead* keep_for_second = nullptr;
    FirstRead* second_of = nullptr;
    ObjectSelection* only = nullptr;
};

// The node index for an input of this size and largest node id (0: unknown): in memory
// for extracts whose run fits in `usable_memory` (extract_memory_bytes); for planet-sized
// input, or when memory is short, file-backed: dense when 8 bytes x the largest id is less
// than a sparse index's ~16 bytes a node (about twice the PBF), as on the planet.
std::string choose_node_index(std::uint64_t input_bytes, std::uint64_t largest_node_id,
                              std::uint64_t usable_memory = UINT64_MAX);
// Inputs from this size on get a file-backed index under auto.
inline constexpr std::uint64_t planet_sized_bytes = 8ULL << 30;
// The names --help lists: auto, flex_mem, sparse_file_array, dense_file_array.
bool is_known_node_index(const std::string& name);
// A dense index holds a location (8 bytes) for every id up to the largest.
constexpr std::uint64_t dense_index_bytes(std::uint64_t largest_node_id) {
    return largest_node_id >= UINT64_MAX / 8 ? UINT64_MAX : 8 * (largest_node_id + 1);
}

// Estimates before reading, for the pre-flight check (calibrated on tiled city extracts,
// where they lie 0-20% above what runs use). A sparse index holds ~16 bytes a node, about
// twice the PBF (~9 PBF bytes a node); flex_mem takes the smaller of sparse and dense.
std::uint64_t node_index_bytes(const std::string& index, std::uint64_t input_bytes, std::uint64_t largest_node_id);
// Resident memory of the run: the index when it is in memory (flex_mem), plus reader
// buffers, the multipolygon members kept for assembly and the writer's queue.
std::uint64_t extract_memory_bytes(const std::string& index, std::uint64_t input_bytes, std::uint64_t largest_node_id);
// The finished catalog (about 4.2 bytes a PBF byte on dense city data, 5 with margin, less on the planet).
inline constexpr std::uint64_t catalog_bytes_estimate(std::uint64_t input_bytes) { return 5 * input_bytes; }
// A file-backed index lives in ExtractOptions::scratch_dir; flex_mem needs no disk.
inline bool is_file_backed_index(const std::string& index) { return index == "dense_file_array" || index == "sparse_file_array"; }

// Checks that `path` is a readable, non-empty file (InputError naming it otherwise)
// and returns it as an osmium file; unknown suffixes are read as PBF.
osmium::io::File open_input_file(const std::string& path);

ExtractStats extract_catalog(const ExtractOptions& options, const tags::TagMatcher& matcher, const tags::HiddenRules& hidden,
                             RowSink& sink);

} // namespace skyscript::osm
