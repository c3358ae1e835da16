#pragma once
// PBF → catalog rows: pass 1 collects multipolygon relations, pass 2 reads nodes
// (locations into the node index) and ways, builds lines and assembles areas.

#include "catalog_row.hpp"
#include "extract_stats.hpp"
#include "spatial_filter.hpp"
#include "tag_matcher.hpp"

#include <cstdint>
#include <functional>
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
    int pass = 1;                 // 1 relations, 2 nodes and ways
    std::uint64_t bytes_done = 0; // of both passes together, pass 1 weighted 1/5
    std::uint64_t bytes_total = 0;
    std::uint64_t objects = 0;    // catalog objects so far
};

struct ExtractOptions {
    std::string input;
    // auto | flex_mem | sparse_file_array | dense_file_array (see choose_node_index)
    std::string node_index = "auto";
    std::string scratch_dir = "."; // where file-backed indexes live during the run
    const SpatialFilter* region = nullptr;
    std::function<void(const ExtractProgress&)> on_progress;
};

// The node index for an input of this size: in memory for extracts, file-backed
// dense for planet-sized inputs (its memory is the page cache, not the heap).
std::string choose_node_index(std::uint64_t input_bytes);
bool is_known_node_index(const std::string& name);

// Checks that `path` is a readable, non-empty file (InputError naming it otherwise)
// and returns it as an osmium file; unknown suffixes are read as PBF.
osmium::io::File open_input_file(const std::string& path);

ExtractStats extract_catalog(const ExtractOptions& options, const tags::TagMatcher& matcher, RowSink& sink);

} // namespace skyscript::osm
