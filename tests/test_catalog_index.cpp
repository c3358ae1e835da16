// CatalogIndex::for_each_in, the plan's query for the objects around a tile, is checked against
// a scan of every object: squares of every size (a building's, a forest's spanning more than 64
// of the 0.01 degree cells, a lake's spanning more than 64 of the 0.16 degree cells) scattered
// over the map and on the antimeridian, queried with boxes from a tile's to a region's; each
// object that meets a box (or either of two overlapping boxes) is found once, and no other; and a tile across the antimeridian
// takes an object meeting both halves of its box once.

#include "pipeline/common/tag_list_file.hpp"
#include "imagery/tile_grid.hpp"
#include "pipeline/plan/catalog_index.hpp"
#include "pipeline/plan/surroundings.hpp"
#include "pipeline/plan/visible_extent.hpp"
#include "test_support.hpp"
#include "tiny_pbf.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace skyscript::pipeline;
using namespace skyscript::test;

namespace {

// The catalog `osm` extracts to (its path), in a fresh folder `name`.
std::string extracted_catalog(const TinyOsm& osm, const std::string& name) {
    const auto dir = fresh_dir(name);
    write_file(dir + "/in.osm.pbf", tiny_pbf(osm));
    const auto extract = run(sh_quote(binary()) + " extract -q " + sh_quote(dir + "/in.osm.pbf") + " -o " + sh_quote(dir + "/out"));
    REQUIRE_MESSAGE(extract.exit_code == 0, extract.err);
    return dir + "/out/catalog.gpkg";
}

} // namespace

TEST_CASE("the objects a box meets, each once: small, wide and very wide objects, against a scan of all") {
    TinyOsm osm;
    std::mt19937 rng(25);
    std::uniform_real_distribution<double> u(0, 1);
    std::int64_t way = 1, node = 1;
    const double halves[] = {0.0003, 0.05, 0.7}; // within 64 fine cells; within 64 coarse cells; beyond
    for (int i = 0; i < 600; ++i) {
        const double half = halves[i % 3] * (0.5 + u(rng));
        const double lon = i % 50 == 0 ? 179.99 - half : 9 + 4 * u(rng), lat = 46 + 3 * u(rng);
        add_square(osm, way++, node, lon, lat, half, {{"landuse", "forest"}});
        node += 4;
    }
    CatalogReader catalog(extracted_catalog(osm, "catalog_index"));
    const skyscript::tags::TagMatcher matcher{load_tag_option("")};
    const CatalogIndex index(catalog, matcher);
    const auto& objects = index.objects();
    REQUIRE(objects.size() == 600);
    std::size_t tiers[3] = {0, 0, 0}; // by the cells of each grid the box spans
    for (const auto& o : objects) {
        const auto span = [&](double deg) {
            return (static_cast<long>((o.bbox.max_lon + 180) / deg) - static_cast<long>((o.bbox.min_lon + 180) / deg) + 1) *
                   (static_cast<long>((o.bbox.max_lat + 90) / deg) - static_cast<long>((o.bbox.min_lat + 90) / deg) + 1);
        };
        ++tiers[span(catalog_index_cell_deg) <= 64 ? 0 : span(catalog_index_coarse_cell_deg) <= 64 ? 1 : 2];
    }
    CHECK(tiers[0] > 100);
    CHECK(tiers[1] > 100);
    CHECK(tiers[2] > 100);
    std::size_t queries = 0, found_total = 0;
    for (int q = 0; q < 3000; ++q) {
        const double half = std::pow(10.0, -3 + 3.5 * u(rng)); // 0.001 to ~3 degrees
        const double lon = q % 100 == 0 ? 180 - half : 8 + 6 * u(rng), lat = 45 + 5 * u(rng);
        const skyscript::osm::Box box{lon - half, lat - half, std::min(180.0, lon + half), lat + half};
        std::vector<std::uint32_t> found, expected;
        index.for_each_in(box, [&](std::uint32_t i) { found.push_back(i); });
        for (std::uint32_t i = 0; i < objects.size(); ++i)
            if (objects[i].bbox.intersects(box)) expected.push_back(i);
        std::sort(found.begin(), found.end());
        INFO("query " << q << ": " << box.min_lon << " " << box.min_lat << " " << box.max_lon << " " << box.max_lat);
        CHECK(std::adjacent_find(found.begin(), found.end()) == found.end()); // each once
        CHECK(found == expected);
        ++queries;
        found_total += found.size();
    }
    CHECK(queries == 3000);
    CHECK(found_total > 3000);
    // Two boxes that overlap (for_each_in_any, as an antimeridian tile's halves but sharing
    // objects): each object that meets either is found once, in whichever box's walk.
    std::size_t shared_total = 0;
    for (int q = 0; q < 1000; ++q) {
        const double half = std::pow(10.0, -3 + 3 * u(rng));
        const double lon = 8 + 6 * u(rng), lat = 45 + 5 * u(rng), dx = half * (2 * u(rng) - 1), dy = half * (2 * u(rng) - 1);
        const skyscript::osm::Box boxes[] = {{lon - half, lat - half, lon + half, lat + half},
                                             {lon + dx - half, lat + dy - half, lon + dx + half, lat + dy + half}};
        std::vector<std::uint32_t> found, expected;
        index.for_each_in_any(boxes, [&](std::uint32_t i) { found.push_back(i); });
        for (std::uint32_t i = 0; i < objects.size(); ++i) {
            const bool a = objects[i].bbox.intersects(boxes[0]), b = objects[i].bbox.intersects(boxes[1]);
            if (a || b) expected.push_back(i);
            shared_total += a && b;
        }
        std::sort(found.begin(), found.end());
        INFO("pair " << q);
        CHECK(std::adjacent_find(found.begin(), found.end()) == found.end());
        CHECK(found == expected);
    }
    CHECK(shared_total > 1000); // objects meeting both boxes, which only one walk may take
}

TEST_CASE("a tile across the antimeridian takes an object that meets both its halves once") {
    // A road whose nodes lie either side of 180°: its box in the catalog spans every longitude,
    // so it meets both halves of such a tile's box (two queries made it a surrounding twice).
    TinyOsm osm;
    osm.nodes = {{1, 179.9996, -16.5, {}}, {2, -179.9996, -16.5002, {}}, {3, 179.9997, -16.5003, {}}};
    osm.ways = {{10, {1, 2}, {{"highway", "primary"}}}};
    osm.nodes.push_back({4, 179.9994, -16.5001, {{"amenity", "school"}}});
    CatalogReader catalog(extracted_catalog(osm, "catalog_index_antimeridian"));
    const skyscript::tags::TagMatcher matcher{load_tag_option("")};
    const CatalogIndex index(catalog, matcher);
    REQUIRE(index.objects().size() >= 1);
    const auto grid = skyscript::imagery::make_tile_grid(179.99995, -16.5001, 384 * 0.6, 0.6);
    REQUIRE(grid.box.crosses_antimeridian());
    VisibleExtent visible(catalog);
    const auto around = find_surroundings(index, visible, grid, -1);
    std::size_t road = 0;
    for (const auto& s : around) road += s.object->osm_id == 10 && s.object->osm_type == 'w';
    CHECK(road == 1);
}

TEST_CASE("the index read on 2 and 3 threads is the one read on one: objects, tags, strings, cells") {
    // Liechtenstein: 8 K objects, so 3 threads read three runs of fids (a run is 2048 or more).
    const auto dir = fresh_dir("catalog_index_threads");
    const auto extract = run(sh_quote(binary()) + " extract -q " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " -o " + sh_quote(dir + "/out"));
    REQUIRE_MESSAGE(extract.exit_code == 0, extract.err);
    CatalogReader catalog(dir + "/out/catalog.gpkg");
    REQUIRE(catalog.boxes_by_fid().size() >= 3 * 2048);
    const skyscript::tags::TagMatcher matcher{load_tag_option("")};
    const CatalogIndex one(catalog, matcher);
    // Every object as text: its row, its tags' strings and roles, by string id too.
    const auto described = [](const CatalogIndex& index) {
        std::vector<std::string> rows;
        for (const auto& o : index.objects()) {
            std::ostringstream row;
            row.precision(17);
            row << o.fid << ' ' << o.osm_type << o.osm_id << ' ' << o.kind << ' ' << o.focus_tag << '=' << index.text(o.focus_tag) << ' '
                << o.max_gsd << ' ' << o.rep_lon << ' ' << o.rep_lat << ' ' << o.area_m2 << ' ' << o.length_m << ' ' << o.bbox.min_lon << ' '
                << o.bbox.min_lat << ' ' << o.bbox.max_lon << ' ' << o.bbox.max_lat << ' ' << o.tags_begin << '-' << o.tags_end;
            for (const auto& t : index.tags(o))
                row << " [" << t.key << ':' << index.text(t.key) << '=' << t.value << ':' << index.text(t.value) << ' ' << t.max_gsd << ' ' << t.feature << ']';
            rows.push_back(row.str());
        }
        return rows;
    };
    // The objects each of a grid of boxes over the country meets, in the order the index gives them.
    const auto queried = [](const CatalogIndex& index) {
        std::vector<std::uint32_t> found;
        for (double lon = 9.47; lon < 9.64; lon += 0.013)
            for (double lat = 47.04; lat < 47.28; lat += 0.017) {
                index.for_each_in({lon, lat, lon + 0.004, lat + 0.006}, [&](std::uint32_t i) { found.push_back(i); });
                found.push_back(~0U);
            }
        return found;
    };
    const auto rows = described(one);
    const auto found = queried(one);
    REQUIRE(rows.size() >= 3 * 2048);
    CHECK(std::count(found.begin(), found.end(), ~0U) < static_cast<std::ptrdiff_t>(found.size()) / 4); // the boxes meet objects
    for (const int threads : {2, 3}) {
        INFO(threads << " threads");
        const CatalogIndex many(catalog, matcher, threads);
        CHECK(described(many) == rows);
        CHECK(queried(many) == found);
    }
    // A catalog edited by hand: boxes left in the R-tree for rows deleted (in every run), which
    // the reads pass over, leaving gaps the threads' index closes.
    const auto edited = dir + "/edited.gpkg";
    std::filesystem::copy_file(dir + "/out/catalog.gpkg", edited);
    REQUIRE(run("sqlite3 " + sh_quote(edited) + " \"DROP TRIGGER rtree_objects_geom_delete; DELETE FROM objects WHERE fid % 700 = 3 OR fid > (SELECT max(fid) - 5 FROM objects)\"").exit_code == 0);
    CatalogReader edited_catalog(edited);
    const CatalogIndex edited_one(edited_catalog, matcher);
    REQUIRE(edited_one.objects().size() + 10 < rows.size());
    REQUIRE(edited_catalog.boxes_by_fid().size() == rows.size());
    const CatalogIndex edited_three(edited_catalog, matcher, 3);
    CHECK(described(edited_three) == described(edited_one));
    CHECK(queried(edited_three) == queried(edited_one));
}
