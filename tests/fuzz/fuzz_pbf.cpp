// Fuzz target: the PBF reader, through the real extract code path (osm/extractor.*:
// sorted_pbf's blob index, libosmium's decoder, the node index, the catalog builder and
// area assembly with the built-in vocabulary) and `tags --stats` (osm/tag_stats.*), on
// the fuzz input written to a file. Seeds are small real PBFs cut from tests/data/osm,
// some written without compression so that mutations reach the protobuf inside.
//
// Invariants: a bad file is an InputError naming it, never a crash or another exception;
// every row the extract hands on is well formed (osm type and kind known, tags_json a JSON
// object of valid UTF-8, focus_tag `key=value` of valid UTF-8, positive max_gsd, finite
// coordinates in range, a WKB of the row's kind), fids increase; the stats add up.

#include "osm/extractor.hpp"
#include "fuzz_check.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_list.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "osm/tag_stats.hpp"
#include "temp_input_file.hpp"
#include "utf8_check.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace skyscript;

namespace {

bool in_range(double lon, double lat) {
    return std::isfinite(lon) && std::isfinite(lat) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}

class CheckingSink : public osm::RowSink {
public:
    void consume(std::vector<osm::CatalogRow>&& batch) override {
        for (const auto& r : batch) check(r);
    }
    std::uint64_t rows = 0;

private:
    void check(const osm::CatalogRow& r) {
        const std::string id = std::string(1, r.osm_type) + std::to_string(r.osm_id);
        FUZZ_CHECK(r.fid > last_fid_, id + ": fid " + std::to_string(r.fid) + " after " + std::to_string(last_fid_));
        last_fid_ = r.fid;
        ++rows;
        FUZZ_CHECK(r.osm_type == 'n' || r.osm_type == 'w' || r.osm_type == 'r', id);
        FUZZ_CHECK(r.kind == 'n' || r.kind == 'w' || r.kind == 'a', id + ": kind " + std::string(1, r.kind));
        FUZZ_CHECK(fuzz::is_strict_utf8(r.tags_json), id + ": tags_json not UTF-8");
        nlohmann::json tags;
        try {
            tags = nlohmann::json::parse(r.tags_json);
        } catch (const nlohmann::json::exception& e) {
            FUZZ_CHECK(false, id + ": tags_json " + r.tags_json + ": " + e.what());
        }
        FUZZ_CHECK(tags.is_object() && !tags.empty(), id + ": tags_json " + r.tags_json);
        FUZZ_CHECK(fuzz::is_strict_utf8(r.focus_tag), id + ": focus_tag not UTF-8");
        FUZZ_CHECK(r.focus_tag.find('=') != std::string::npos, id + ": focus_tag " + r.focus_tag);
        FUZZ_CHECK(r.max_gsd > 0 && std::isfinite(r.max_gsd), id);
        FUZZ_CHECK(std::isfinite(r.area_m2) && r.area_m2 >= 0 && std::isfinite(r.length_m) && r.length_m >= 0, id);
        FUZZ_CHECK(in_range(r.rep_lon, r.rep_lat), id + ": representative point");
        const auto& b = r.bbox;
        FUZZ_CHECK(in_range(b.min_lon, b.min_lat) && in_range(b.max_lon, b.max_lat), id + ": bbox");
        FUZZ_CHECK(b.min_lon <= b.max_lon && b.min_lat <= b.max_lat, id + ": bbox");
        FUZZ_CHECK(r.wkb.size() >= 5 && r.wkb[0] == 1, id + ": WKB header");
        std::uint32_t type;
        std::memcpy(&type, r.wkb.data() + 1, 4);
        const bool fits = r.kind == 'n' ? type == 1 : r.kind == 'w' ? type == 2 : (type == 3 || type == 6);
        FUZZ_CHECK(fits, id + ": WKB type " + std::to_string(type) + " for kind " + std::string(1, r.kind));
    }
    std::int64_t last_fid_ = 0;
};

void check_input_error(const osm::InputError& e, const std::string& path) {
    const std::string what = e.what();
    FUZZ_CHECK(what.starts_with(path), what);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const tags::TagMatcher matcher{tags::TagList::builtin()};
    static const tags::HiddenRules hidden = tags::HiddenRules::builtin();
    const std::string path = fuzz::write_temp_file("input.osm.pbf", {reinterpret_cast<const char*>(data), size});

    osm::ExtractOptions options;
    options.input = path;
    options.node_index = "flex_mem";
    options.scratch_dir = fuzz::TempFolder::instance().path().string();
    // SKYSCRIPT_FUZZ_VERBOSE=1: what each input gave, to see that seeds reach the catalog.
    static const bool verbose = std::getenv("SKYSCRIPT_FUZZ_VERBOSE") != nullptr;
    CheckingSink sink;
    try {
        const auto stats = osm::extract_catalog(options, matcher, hidden, sink);
        FUZZ_CHECK(stats.kept() == sink.rows, std::to_string(stats.kept()) + " kept, " + std::to_string(sink.rows) + " rows");
        if (verbose)
            std::fprintf(stderr, "fuzz_pbf: %zu bytes: %llu nodes %llu ways %llu relations read, %llu points %llu lines %llu areas\n", size,
                         (unsigned long long)stats.nodes_read, (unsigned long long)stats.ways_read, (unsigned long long)stats.relations_read,
                         (unsigned long long)stats.points, (unsigned long long)stats.lines, (unsigned long long)stats.areas);
    } catch (const osm::InputError& e) {
        check_input_error(e, path);
        if (verbose) std::fprintf(stderr, "fuzz_pbf: %zu bytes: %s\n", size, e.what());
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, std::string("extract_catalog let through an exception that is not an InputError: ") + e.what());
    }

    try {
        const auto stats = osm::collect_tag_stats(path, matcher, hidden, 10, 1);
        FUZZ_CHECK(stats.tagged_objects <= stats.objects && stats.candidate_objects <= stats.tagged_objects, "tag stats counts");
        FUZZ_CHECK(stats.hidden_candidates <= stats.candidate_objects, "hidden candidates");
        FUZZ_CHECK(stats.unknown_tags.size() <= 10 && stats.unknown_keys.size() <= 10, "top 10");
        for (const auto& [tag, n] : stats.unknown_tags) FUZZ_CHECK(n > 0, tag);
    } catch (const osm::InputError& e) {
        check_input_error(e, path);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, std::string("collect_tag_stats let through an exception that is not an InputError: ") + e.what());
    }
    return 0;
}
