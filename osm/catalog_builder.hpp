#pragma once
// The libosmium handler that turns nodes, ways and assembled areas into catalog rows.

#include "osm/catalog_row.hpp"
#include "osm/extract_stats.hpp"
#include "osm/shape.hpp"
#include "osm/spatial_filter.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <osmium/handler.hpp>
#include <osmium/osm/area.hpp>
#include <osmium/osm/node.hpp>
#include <osmium/osm/way.hpp>

#include <stdexcept>
#include <vector>

namespace skyscript::osm {

// Nodes after ways: node locations would be missing. The message tells the fix.
class UnsortedInput : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CatalogBuilder : public osmium::handler::Handler {
public:
    CatalogBuilder(const tags::TagMatcher& matcher, const tags::HiddenRules& hidden, const SpatialFilter* region, RowSink& sink,
                   ExtractStats& stats, std::size_t batch_size = 8192);

    void node(const osmium::Node& node);
    void way(const osmium::Way& way);
    void area(const osmium::Area& area);
    // Hands over the last partial batch (not named flush(): osmium calls that per buffer).
    void finish();

private:
    // A candidate (it has a groundable feature tag) that no rule hides; counts the hidden.
    bool visible_candidate(const osmium::TagList& tags, tags::ObjectKind kind);
    void emit(char osm_type, std::int64_t id, char kind);

    const tags::TagMatcher& matcher_;
    const tags::HiddenRules& hidden_;
    const SpatialFilter* region_;
    RowSink& sink_;
    ExtractStats& stats_;
    std::size_t batch_size_;
    std::vector<CatalogRow> batch_;
    CatalogRow row_;
    Shape shape_;
    bool seen_way_ = false;
    std::int64_t rows_seen_ = 0; // fids: every row that passes the region, wanted or not
};

} // namespace skyscript::osm
