// Exact visibility (issue 22, point 1): the objects around a focus are measured by their
// geometry clipped to the tile in its own CRS, not by their boxes. A tiny OSM file: a
// building (the focus), a road across its tile, a diagonal road that only clips the tile's
// corner, a building whose sliver in the tile is under the minimum, a large forest's corner; planned with no random
// offset, so the tile is the building's box grown to 100 px at 0.5 m (±25 m around it).

#include "test_support.hpp"
#include "tiny_pbf.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace skyscript::test;
using json = nlohmann::json;

namespace {

constexpr double lon0 = 10.0, lat0 = 50.0;
constexpr double m_lat = 1 / 111229.0;                        // degrees of latitude a metre at 50 N
const double m_lon = 1 / (111412.9 * std::cos(lat0 * M_PI / 180)); // degrees of longitude a metre

// A way through points given in metres east and north of the building's centre.
void add_line(TinyOsm& osm, std::int64_t way_id, std::int64_t first_node, std::vector<std::pair<double, double>> en, TinyTags tags) {
    TinyWay w{way_id, {}, std::move(tags)};
    for (std::size_t i = 0; i < en.size(); ++i) {
        osm.nodes.push_back({first_node + static_cast<std::int64_t>(i), lon0 + en[i].first * m_lon, lat0 + en[i].second * m_lat, {}});
        w.nodes.push_back(first_node + static_cast<std::int64_t>(i));
    }
    osm.ways.push_back(std::move(w));
}

// The surrounding_tags of the building's job, planned with `extra` options.
json surroundings_of_building(const std::string& name, const std::string& extra) {
    TinyOsm osm;
    add_square(osm, 100, 1, lon0, lat0, 0.0002, {{"building", "yes"}}); // ±22 m north-south: the tile's long side
    // Across the tile, 10 m north of the centre: 50 m (100 px) in it.
    add_line(osm, 200, 10, {{-60, 10}, {60, 10}}, {{"highway", "residential"}});
    // Diagonal, x + y = 47 m: in the tile only from (22, 25) to (25, 22), 4.2 m (8.5 px).
    add_line(osm, 300, 20, {{17, 30}, {30, 17}}, {{"highway", "service"}});
    // A shed 10 m wide whose west 0.4 m reaches into the tile's east edge: 16 m² = 64 px²... times 0.4/10 of its width: 6.4 px² in.
    TinyWay shed{400, {30, 31, 32, 33, 30}, {{"building", "shed"}}};
    for (const auto& [i, e, n] : std::vector<std::tuple<int, double, double>>{{30, 24.6, -2}, {31, 34.6, -2}, {32, 34.6, 2}, {33, 24.6, 2}})
        osm.nodes.push_back({i, lon0 + e * m_lon, lat0 + n * m_lat, {}});
    osm.ways.push_back(shed);
    // A forest 5 km across whose north-west corner reaches 2 m into the tile's south-east
    // corner: 16 px², a share of its area near 1.6e-7.
    TinyWay forest{500, {40, 41, 42, 43, 40}, {{"landuse", "forest"}}};
    for (const auto& [i, e, n] : std::vector<std::tuple<int, double, double>>{{40, 23, -23}, {41, 5023, -23}, {42, 5023, -5023}, {43, 23, -5023}})
        osm.nodes.push_back({i, lon0 + e * m_lon, lat0 + n * m_lat, {}});
    osm.ways.push_back(forest);
    const auto dir = fresh_dir(name);
    write_file(dir + "/tiny.osm.pbf", tiny_pbf(osm));
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"R\"\nkind = \"gdal\"\npath = \"" + data("imagery/dop-rgb.tif") +
                                          "\"\ngsd = 0.5\nyear = 2021\ncoverage = [9, 49, 11, 51]\n");
    const auto out = dir + "/out";
    const auto extract = run(sh_quote(binary()) + " extract -q " + sh_quote(dir + "/tiny.osm.pbf") + " -o " + sh_quote(out));
    REQUIRE_MESSAGE(extract.exit_code == 0, extract.err);
    const auto plan = run(sh_quote(binary()) + " plan -q " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml") + " --offset 0 " + extra);
    REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
    const auto db = out + "/state.sqlite";
    CHECK(sql_int(db, "SELECT width FROM jobs WHERE osm_id = 100") == 100);
    return json::parse(sql_column(db, "SELECT surrounding_tags FROM jobs WHERE osm_id = 100").at(0));
}

// The building's job's `objects` (meta), planned as above.
json objects_of_building(const std::string& name) {
    surroundings_of_building(name, "");
    return json::parse(sql_column(scratch_root() + "/" + name + "/out/state.sqlite", "SELECT objects FROM jobs WHERE osm_id = 100").at(0));
}

bool names(const json& around, const std::string& key, const std::string& value) {
    for (const auto& o : around)
        if (o.value(key, "") == value) return true;
    return false;
}

} // namespace

TEST_CASE("around a building: the road across its tile is named; a road clipping the tile's corner and a shed's sliver are not") {
    const auto around = surroundings_of_building("visible-extent", "");
    INFO(around.dump());
    CHECK(names(around, "highway", "residential"));
    CHECK_FALSE(names(around, "highway", "service")); // its box meets a quarter of the tile's corner; 8.5 px of it is in
    CHECK_FALSE(names(around, "building", "shed"));   // 6.4 px² of it
    CHECK_FALSE(names(around, "landuse", "forest"));  // 16 px² of it
    CHECK(around.size() == 1);
}

TEST_CASE("--min-visible-px lowers or raises the bar; a bad value is one line naming the option") {
    const auto all = surroundings_of_building("visible-extent-low", "--min-visible-px 1,1");
    INFO(all.dump());
    CHECK(names(all, "highway", "service"));
    CHECK(names(all, "building", "shed"));
    CHECK(names(all, "landuse", "forest"));
    const auto none = surroundings_of_building("visible-extent-high", "--min-visible-px 64,1000");
    CHECK(none.empty()); // the 100 px road is under 1000 px
    const auto dir = fresh_dir("visible-extent-bad");
    REQUIRE(run("cp -r " + sh_quote(scratch_root() + "/visible-extent-low/out") + " " + sh_quote(dir + "/out") + " && rm " + sh_quote(dir + "/out/state.sqlite"))
                .exit_code == 0);
    const auto bad = run(sh_quote(binary()) + " plan " + sh_quote(dir + "/out") + " --min-visible-px 64");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--min-visible-px: expected AREA,LINE") != std::string::npos);
}

TEST_CASE("objects: the focus and the named road in the image's pixels, their boxes in the image, the road where it crosses") {
    const auto objects = objects_of_building("visible-extent-objects");
    INFO(objects.dump());
    REQUIRE(objects.size() == 2);
    const auto& focus = objects[0];
    CHECK(focus["role"] == "focus");
    CHECK(focus["osm_type"] == "w");
    CHECK(focus["osm_id"] == 100);
    CHECK(focus["tags"] == json{{"building", "yes"}});
    // ±22.2 m north-south, ±14.3 m east-west around the tile's centre (50, 50) at 0.5 m; the
    // UTM grid turns it by under a degree here (meridian convergence): within a pixel.
    const auto& b = focus["bbox_px"];
    CHECK(std::abs(b[0].get<double>() - (50 - 14.3 * 2)) < 1);
    CHECK(std::abs(b[1].get<double>() - (50 - 22.2 * 2)) < 1);
    CHECK(std::abs(b[2].get<double>() - (50 + 14.3 * 2)) < 1);
    CHECK(std::abs(b[3].get<double>() - (50 + 22.2 * 2)) < 1);
    CHECK(focus["geometry_px"].size() == 1);       // one polygon,
    CHECK(focus["geometry_px"][0].size() == 1);    // one ring,
    CHECK(focus["geometry_px"][0][0].size() == 5); // closed: 4 corners and the first again
    CHECK(focus["visible_share"] == 1.0);
    CHECK(focus["visible_px"].get<double>() == doctest::Approx(28.6 * 44.4 / 0.25).epsilon(0.03));
    const auto& road = objects[1];
    CHECK(road["role"] == "surrounding");
    CHECK(road["osm_id"] == 200);
    CHECK(road["tags"] == json{{"highway", "residential"}});
    // 10 m north of the centre: y = 50 - 20 = 30 px, across the whole width, 100 px of 240 m.
    CHECK(road["bbox_px"][0] == 0.0);
    CHECK(road["bbox_px"][2] == 100.0);
    CHECK(road["bbox_px"][1].get<double>() == doctest::Approx(30).epsilon(0.05));
    CHECK(road["geometry_px"].size() == 1); // one part
    CHECK(road["visible_px"].get<double>() == doctest::Approx(100).epsilon(0.01));
    CHECK(road["visible_share"].get<double>() == doctest::Approx(100.0 / 240).epsilon(0.02));
    for (const auto& o : objects)
        for (int i = 0; i < 4; ++i) {
            CHECK(o["bbox_px"][i].get<double>() >= 0);
            CHECK(o["bbox_px"][i].get<double>() <= 100);
        }
}

TEST_CASE("a few pixels of a forest of square kilometres: a visible_share that is small, not zero") {
    surroundings_of_building("visible-extent-share", "--min-visible-px 1,1");
    const auto objects = json::parse(sql_column(scratch_root() + "/visible-extent-share/out/state.sqlite", "SELECT objects FROM jobs WHERE osm_id = 100").at(0));
    INFO(objects.dump());
    const json* forest = nullptr;
    for (const auto& o : objects)
        if (o["osm_id"] == 500) forest = &o;
    REQUIRE(forest);
    CHECK((*forest)["visible_px"].get<double>() == doctest::Approx(16).epsilon(0.15));
    CHECK((*forest)["visible_share"].get<double>() > 0); // 4 decimals made it 0: "none of it is visible"
    CHECK((*forest)["visible_share"].get<double>() == doctest::Approx(4.0 / 25e6).epsilon(0.2));
}
