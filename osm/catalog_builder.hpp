#pragma once
// The libosmium handler that turns nodes, ways and assembled areas into catalog rows, made
// whole (measures, WKB) into a MadeRows; a RowSequencer numbers them and hands them on in
// reading order. One builder a thread: pass 2 runs builders for way buffers on workers.

#include "osm/catalog_row.hpp"
#include "osm/extract_stats.hpp"
#include "osm/object_selection.hpp"
#include "osm/row_spill.hpp"
#include "osm/shape.hpp"
#include "osm/spatial_filter.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <osmium/handler.hpp>
#include <osmium/osm/area.hpp>
#include <osmium/osm/node.hpp>
#include <osmium/osm/way.hpp>

#include <functional>
#include <stdexcept>
#include <vector>

namespace skyscript::osm {

// Nodes after ways: node locations would be missing (checked where the file is read, in
// extract_catalog). The message tells the fix.
class UnsortedInput : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The rows a builder made from one input buffer, in order, each with its shape's points
// (RowSink::wants asks for them), before they have fids.
struct MadeRows {
    std::vector<CatalogRow> rows;
    std::vector<std::pair<std::size_t, std::size_t>> spans; // rows[i]'s points: vertices[first, second)
    std::vector<Point> vertices;
    ExtractStats stats; // what was read and dropped making them (added up by the RowSequencer)
    void clear() {
        rows.clear();
        spans.clear();
        vertices.clear();
        stats = ExtractStats{};
    }
};

class CatalogBuilder : public osmium::handler::Handler {
public:
    // `region` is used from this builder's thread only (SpatialFilter::copy for another).
    CatalogBuilder(const tags::TagMatcher& matcher, const tags::HiddenRules& hidden, const SpatialFilter* region);

    // Where the rows go from now on (rows and their counts).
    void output(MadeRows& out) noexcept { out_ = &out; }
    void node(const osmium::Node& node);
    void way(const osmium::Way& way);
    void area(const osmium::Area& area);

private:
    // A candidate (it has a groundable feature tag) that no rule hides; counts the hidden.
    bool visible_candidate(const osmium::TagList& tags, tags::ObjectKind kind);
    void emit(char osm_type, std::int64_t id, char kind);

    const tags::TagMatcher& matcher_;
    const tags::HiddenRules& hidden_;
    const SpatialFilter* region_;
    MadeRows* out_ = nullptr;
    CatalogRow row_;
    Shape shape_;
};

// Numbers made rows in reading order (fids: every row that passed the region, wanted or not),
// asks the sink whether it wants each, and hands the wanted ones on in batches. One thread.
// A second read that makes only the rows of `only` gives them the fids `only` lists, in
// order; a row that is not the next one listed means the file is not the one the first
// read saw (InputChanged).
class RowSequencer {
public:
    RowSequencer(RowSink& sink, ExtractStats& stats, const ObjectSelection* only = nullptr, std::size_t batch_size = 8192);
    void take(MadeRows& made);
    // Rows set aside by an earlier read (RowSpill), those `keep` accepts (all without it), in
    // their order, as if made now: a point's one vertex is its box's corner, other rows come
    // without their vertices (sampling in the read's sinks do not read them). Read back and
    // prepared for the sink (RowSink::prepare) on `threads` workers; `keep` runs there too, on
    // each row's head (RowSpill::read_chunk: no tags, focus tag or WKB). Without an
    // ObjectSelection, `keep` is for a spill of every row of a read, numbered by it: a row
    // refused counts as not wanted, the others keep their fids. `progress` is told the rows
    // read so far.
    void take_spilled(RowSpill& rows, int threads, const std::function<bool(const CatalogRow&)>& keep = {},
                      const std::function<void(std::uint64_t rows_read)>& progress = {});
    // Hands over the last partial batch.
    void finish();

private:
    RowSink& sink_;
    ExtractStats& stats_;
    std::size_t batch_size_;
    const ObjectSelection* only_;
    std::vector<CatalogRow> batch_;
    std::int64_t rows_seen_ = 0;
    bool fids_given_ = false; // take_spilled: the rows come numbered
};

class InputChanged : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace skyscript::osm
