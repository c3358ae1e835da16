#pragma once
// Assembles the catalog's areas: multipolygon/boundary relations (AreaManager, on the
// reading thread, which sees every member way in order) and the closed ways that area_rules
// calls areas (assemble_area_way, on whichever thread handles the way), both only when they
// carry a groundable feature tag. Same structure as libosmium's MultipolygonManager, whose
// filter cannot express "closed highway is a line" and whose failures go uncounted.

#include "osm/area_rules.hpp"
#include "osm/object_selection.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <osmium/area/assembler.hpp>
#include <osmium/relations/relations_manager.hpp>
#include <osmium/osm/way.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace skyscript::osm {

bool has_feature_tag(const osmium::TagList& tags, const tags::TagMatcher& matcher) noexcept;

// An object met twice: two versions of it (a history file without its header's word for it)
// or two copies (extracts joined with `osmium cat`). It would make two rows, and libosmium's
// relations manager cannot take a member way twice (its members database corrupts its memory).
class DuplicateObject : public std::runtime_error {
public:
    DuplicateObject(osmium::item_type type, osmium::object_id_type id)
        : std::runtime_error(std::string(osmium::item_type_to_name(type)) + " " + std::to_string(id) +
                             " is in it twice (two versions, or two extracts joined): join extracts with osmium merge A B -o AB.osm.pbf, "
                             "and take a date's snapshot of a history file with osmium time-filter") {}
};

// A way the catalog stores as an area (kind a), rather than as a line.
inline bool is_area_way(const osmium::Way& way) noexcept {
    return way.nodes().size() >= 4 && way.is_closed() && closed_way_is_area(way.tags());
}

// Runs libosmium's assembler (no empty areas, missing locations an error) on a relation or a
// closed way; false when it could not build a valid area or a node is missing from the extract.
template <typename F>
bool assemble_area(F&& run) {
    osmium::area::AssemblerConfig config;
    config.create_empty_areas = false;
    config.ignore_invalid_locations = false;
    osmium::area::Assembler assembler{config};
    try {
        return run(assembler);
    } catch (const osmium::invalid_location&) {
        return false;
    }
}

class AreaManager : public osmium::relations::RelationsManager<AreaManager, false, true, false, false> {
public:
    // `only`: a second read's selection; the relations it does not name are left alone, and
    // the member ways of those it names are added to its member_ways.
    explicit AreaManager(const tags::TagMatcher& matcher, ObjectSelection* only = nullptr) : matcher_(matcher), only_(only) {}

    bool new_relation(const osmium::Relation& relation) {
        const char* type = relation.tags().get_value_by_key("type");
        if (!type || (std::strcmp(type, "multipolygon") && std::strcmp(type, "boundary"))) return false;
        if (only_ && !only_->relation(relation.id())) return false;
        if (!has_feature_tag(relation.tags(), matcher_)) return false;
        bool ways = false;
        for (const auto& m : relation.members())
            if (m.type() == osmium::item_type::way) {
                ways = true;
                if (only_) only_->member_ways.push_back(m.ref());
            }
        return ways;
    }

    // A member way that is here already, for a relation still waiting for others: met twice.
    // Looked up only once the ways' ids have gone back (a file not sorted by id): in a sorted
    // file the reading thread's test of each object against the one before it is enough.
    void before_way(const osmium::Way& way) {
        if (check_member_ways_ && this->get_member_way(way.id())) throw DuplicateObject(osmium::item_type::way, way.id());
    }
    void check_member_ways() noexcept { check_member_ways_ = true; }

    void complete_relation(const osmium::Relation& relation) {
        std::vector<const osmium::Way*> ways;
        ways.reserve(relation.members().size());
        for (const auto& member : relation.members())
            if (member.ref() != 0) ways.push_back(this->get_member_way(member.ref()));
        // A member way counted twice (a file holding a way twice) completes the relation
        // before its last member has come: that one is not there, and the assembler would
        // follow a null way. The relation is counted as an area that failed.
        if (std::find(ways.begin(), ways.end(), nullptr) != ways.end()) {
            ++failed_;
            return;
        }
        ++(assemble_area([&](osmium::area::Assembler& a) { return a(relation, ways, this->buffer()); }) ? assembled_ : failed_);
    }

    std::uint64_t assembled() const noexcept { return assembled_; }
    std::uint64_t failed() const noexcept { return failed_; }

private:
    const tags::TagMatcher& matcher_;
    ObjectSelection* only_;
    std::uint64_t assembled_ = 0;
    std::uint64_t failed_ = 0;
    bool check_member_ways_ = false;
};

// A closed way the catalog stores as an area, assembled into `out` (with its nodes' locations set).
enum class AreaWay { not_area, assembled, failed };
inline AreaWay assemble_area_way(const osmium::Way& way, const tags::TagMatcher& matcher, osmium::memory::Buffer& out) {
    if (!is_area_way(way) || !has_feature_tag(way.tags(), matcher)) return AreaWay::not_area;
    return assemble_area([&](osmium::area::Assembler& a) { return a(way, out); }) ? AreaWay::assembled : AreaWay::failed;
}

} // namespace skyscript::osm
