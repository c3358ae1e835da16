// End to end: `skyscript-build extract` on real extracts, checked with osmium-tool,
// GDAL (ogrinfo / ogr2ogr) and SQLite.

#include "osm/area_rules.hpp"
#include "osm/extractor.hpp"
#include "osm/node_id_range.hpp"
#include "osm/sorted_pbf.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <osmium/builder/attr.hpp>
#include <osmium/osm/relation.hpp>
#include <osmium/osm/way.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

using namespace skyscript::test;

namespace {

std::string extract(const std::string& input, const std::string& out, const std::string& extra = "") {
    const auto r = run(sh_quote(binary()) + " extract " + sh_quote(input) + " -o " + sh_quote(out) + " " + extra);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return out + "/catalog.gpkg";
}

// Distinct (type, id) of objects carrying `key` (any value but "no") in `osmium export`'s output.
std::set<std::string> osmium_objects_with(const std::string& input, const std::string& key, const std::string& dir) {
    const auto filtered = dir + "/filtered.osm.pbf";
    const auto seq = dir + "/export.geojsonseq";
    REQUIRE(run("osmium tags-filter -O " + sh_quote(input) + " " + key + " -o " + sh_quote(filtered)).exit_code == 0);
    REQUIRE(run("osmium export -O -f geojsonseq -a type,id " + sh_quote(filtered) + " -o " + sh_quote(seq)).exit_code == 0);
    const auto r = run("python3 -c " + sh_quote(
        "import json,sys\n"
        "s=set()\n"
        "for l in open(sys.argv[1]):\n"
        "  l=l.strip('\\x1e\\n ')\n"
        "  if not l: continue\n"
        "  p=json.loads(l)['properties']\n"
        "  if p.get(sys.argv[2],'no')!='no': s.add(p['@type'][0]+str(p['@id']))\n"
        "print('\\n'.join(sorted(s)))\n") + " " + sh_quote(seq) + " " + key);
    REQUIRE(r.exit_code == 0);
    const auto l = lines(r.out);
    return {l.begin(), l.end()};
}

// UTM area (m²) of one OSM object as GDAL computes it from osmium's own export.
double gdal_utm_area(const std::string& input, const std::string& osm_ref, int epsg, const std::string& dir) {
    const auto one = dir + "/one.osm.pbf";
    const auto gj = dir + "/one.geojson";
    const auto utm = dir + "/one-utm.gpkg";
    REQUIRE(run("osmium getid -O -r " + sh_quote(input) + " " + osm_ref + " -o " + sh_quote(one)).exit_code == 0);
    REQUIRE(run("osmium export -O -f geojson -a type,id --geometry-types=polygon " + sh_quote(one) + " -o " + sh_quote(gj)).exit_code == 0);
    const auto conv = run("ogr2ogr -overwrite -f GPKG -t_srs EPSG:" + std::to_string(epsg) + " -nln one " + sh_quote(utm) + " " + sh_quote(gj));
    REQUIRE(conv.exit_code == 0);
    const std::string type = osm_ref[0] == 'r' ? "relation" : "way";
    const auto q = run("ogrinfo -q -dialect SQLite -sql " +
                       sh_quote("SELECT ST_Area(geom) AS a FROM one WHERE \"@type\"='" + type + "' AND \"@id\"=" + osm_ref.substr(1)) +
                       " " + sh_quote(utm));
    REQUIRE(q.exit_code == 0);
    const auto pos = q.out.find("a (Real) = ");
    REQUIRE(pos != std::string::npos);
    return std::stod(q.out.substr(pos + 11));
}

std::set<std::string> catalog_ids(const std::string& gpkg, const std::string& where = "1") {
    const auto rows = sql_column(gpkg, "SELECT osm_type || osm_id FROM objects WHERE " + where);
    return {rows.begin(), rows.end()};
}

// Refs (n1, w2, r3) of the catalog objects that GDAL's spatial filter (an R*Tree, then an
// exact GEOS test for a non-rectangular filter) finds intersecting any polygon of `geojson`,
// one polygon at a time: independent of our union.
std::set<std::string> gdal_filter_ids(const std::string& gpkg, const std::string& geojson) {
    const auto r = run("/usr/bin/python3 -c " + sh_quote(
        "import sys\n"
        "from osgeo import ogr\n"
        "cat=ogr.Open(sys.argv[1]); lyr=cat.GetLayerByName('objects')\n"
        "ids=set()\n"
        "regions=ogr.Open(sys.argv[2])\n" // kept referenced: a layer dies with its dataset
        "for f in regions.GetLayer(0):\n"
        "  lyr.SetSpatialFilter(f.GetGeometryRef().Clone())\n"
        "  for o in lyr: ids.add(o.GetField('osm_type')+str(o.GetField('osm_id')))\n"
        "print('\\n'.join(sorted(ids)))\n") + " " + sh_quote(gpkg) + " " + sh_quote(geojson));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto l = lines(r.out);
    return {l.begin(), l.end()};
}

// The value of one key of the extract summary's stdout ("  hidden: 315 (...)").
std::int64_t summary_count(const std::string& out, const std::string& key) {
    const auto pos = out.find("  " + key + ": ");
    REQUIRE(pos != std::string::npos);
    return std::stoll(out.substr(pos + key.size() + 4));
}

} // namespace

TEST_CASE("building objects agree with osmium tags-filter + export within 2%") {
    for (const std::string name : {"monaco-latest.osm.pbf", "liechtenstein-2013-08-03.osm.pbf", "kotka-pyrosm.osm.pbf"}) {
        const auto dir = fresh_dir("extract_buildings_" + name);
        const auto gpkg = extract(data("osm/" + name), dir + "/out", "-q");
        const auto theirs = osmium_objects_with(data("osm/" + name), "building", dir);
        const auto ours = catalog_ids(gpkg, "json_extract(tags, '$.building') IS NOT NULL");
        INFO(name << ": osmium " << theirs.size() << ", ours " << ours.size());
        REQUIRE(theirs.size() > 1000);
        CHECK(std::abs(double(ours.size()) - double(theirs.size())) <= 0.02 * double(theirs.size()));
        std::vector<std::string> both;
        std::set_intersection(ours.begin(), ours.end(), theirs.begin(), theirs.end(), std::back_inserter(both));
        CHECK(double(both.size()) >= 0.98 * double(theirs.size()));
    }
}

TEST_CASE("a multipolygon relation and a closed way have their area within 1% of GDAL's UTM area") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_areas");
    const auto gpkg = extract(input, dir + "/out", "-q");
    for (const std::string type : {"r", "w"}) {
        // The largest area of each type: a real test of rings and holes, not a tiny square.
        const auto id = sql_column(gpkg, "SELECT osm_id FROM objects WHERE kind='a' AND osm_type='" + type + "' ORDER BY area_m2 DESC LIMIT 1");
        REQUIRE(id.size() == 1);
        const double ours = std::stod(sql_column(gpkg, "SELECT area_m2 FROM objects WHERE kind='a' AND osm_type='" + type + "' AND osm_id=" + id[0])[0]);
        const double gdal = gdal_utm_area(input, type + id[0], 32632, dir);
        INFO(type << id[0] << ": ours " << ours << " m², GDAL UTM 32N " << gdal << " m²");
        CHECK(ours > 1000);
        CHECK(std::abs(ours - gdal) <= 0.01 * gdal);
    }
}

TEST_CASE("the catalog is a GeoPackage that GDAL opens, with a valid spatial index") {
    const auto dir = fresh_dir("extract_gpkg");
    const auto gpkg = extract(data("osm/monaco-latest.osm.pbf"), dir + "/out", "-q");
    const auto info = run("ogrinfo -so " + sh_quote(gpkg) + " objects");
    REQUIRE(info.exit_code == 0);
    const auto count = sql_int(gpkg, "SELECT count(*) FROM objects");
    CHECK(info.out.find("Feature Count: " + std::to_string(count)) != std::string::npos);
    for (const char* col : {"osm_type: String", "osm_id: Integer64", "kind: String", "tags: String(JSON)", "max_gsd: Real", "rep_lon: Real"})
        CHECK_MESSAGE(info.out.find(col) != std::string::npos, std::string(col));
    const auto idx = run("ogrinfo -q -sql \"SELECT HasSpatialIndex('objects','geom')\" " + sh_quote(gpkg));
    CHECK(idx.out.find("= 1") != std::string::npos);
    CHECK(sql_column(gpkg, "SELECT rtreecheck('rtree_objects_geom')")[0] == "ok");
    CHECK(sql_column(gpkg, "PRAGMA integrity_check")[0] == "ok");
    CHECK(sql_int(gpkg, "SELECT count(*) FROM rtree_objects_geom") == count);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE osm_type NOT IN ('n','w','r') OR kind NOT IN ('n','w','a')") == 0);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE kind='a' AND NOT area_m2 > 0") == 0);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE kind='w' AND NOT length_m > 0") == 0);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE json_valid(tags) = 0") == 0);
    // Non-groundable tags never reach the catalog.
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE json_extract(tags,'$.name') IS NOT NULL OR tags LIKE '%\"addr:%'") == 0);
    // Every kind is there, and the summary is stored with the catalog.
    CHECK(sql_int(gpkg, "SELECT count(DISTINCT kind) FROM objects") == 3);
    CHECK(sql_int(gpkg, "SELECT CAST(value AS INTEGER) FROM skyscript_meta WHERE key='objects'") == count);
    // GDAL's own exact spatial test agrees that every representative point lies on or in its object.
    const auto outside = run("ogrinfo -q -dialect SQLite -sql " +
                             sh_quote("SELECT count(*) AS n FROM objects WHERE kind='a' AND NOT ST_Intersects(geom, MakePoint(rep_lon, rep_lat, 4326))") +
                             " " + sh_quote(gpkg));
    CHECK(outside.out.find("n (Integer) = 0") != std::string::npos);
}

TEST_CASE("python3's sqlite3 reads the catalog and the geometry blobs") {
    const auto dir = fresh_dir("extract_python");
    const auto gpkg = extract(data("osm/kotka-pyrosm.osm.pbf"), dir + "/out", "-q");
    const auto r = run("python3 -c " + sh_quote(
        "import sqlite3,sys,json,struct\n"
        "db=sqlite3.connect(sys.argv[1])\n"
        "n=0\n"
        "for g,t,k in db.execute('select geom,tags,kind from objects'):\n"
        "  assert g[:2]==b'GP', g[:2]\n"
        "  assert struct.unpack('<i',g[4:8])[0]==4326\n"
        "  json.loads(t); n+=1\n"
        "print(n)\n") + " " + sh_quote(gpkg));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(std::stoll(r.out) == sql_int(gpkg, "SELECT count(*) FROM objects"));
}

TEST_CASE("--bbox keeps exactly the objects that GDAL finds intersecting the box") {
    const auto input = data("osm/liechtenstein-2013-08-03.osm.pbf");
    const auto dir = fresh_dir("extract_bbox");
    const auto full = extract(input, dir + "/full", "-q");
    const std::string box = "9.50,47.12,9.54,47.15"; // Vaduz
    const auto boxed = extract(input, dir + "/box", "-q --bbox " + box);
    // GDAL's spatial filter: R*Tree, then an exact GEOS intersection test per candidate.
    const auto r = run("ogr2ogr -f CSV /vsistdout/ -spat 9.50 47.12 9.54 47.15 -select osm_type,osm_id " + sh_quote(full) + " objects");
    REQUIRE(r.exit_code == 0);
    auto gdal_lines = lines(r.out);
    REQUIRE(gdal_lines.size() > 100);
    std::set<std::string> gdal;
    for (auto it = gdal_lines.begin() + 1; it != gdal_lines.end(); ++it) { // w,"1016"
        std::string ref = it->substr(0, 1) + it->substr(2);
        std::erase(ref, '"');
        gdal.insert(ref);
    }
    const auto ours = catalog_ids(boxed);
    CHECK(ours.size() < catalog_ids(full).size());
    std::vector<std::string> only_ours, only_gdal;
    std::set_difference(ours.begin(), ours.end(), gdal.begin(), gdal.end(), std::back_inserter(only_ours));
    std::set_difference(gdal.begin(), gdal.end(), ours.begin(), ours.end(), std::back_inserter(only_gdal));
    INFO("ours " << ours.size() << ", GDAL " << gdal.size() << ", only ours " << only_ours.size() << ", only GDAL " << only_gdal.size());
    CHECK(only_ours.empty());
    CHECK(only_gdal.empty());
    // Box corners as given are respected by every object's bbox too.
    CHECK(sql_int(boxed, "SELECT count(*) FROM rtree_objects_geom WHERE maxx < 9.50 OR minx > 9.54 OR maxy < 47.12 OR miny > 47.15") == 0);
}

TEST_CASE("--polygon with the same box as GeoJSON keeps the same objects as --bbox") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_polygon");
    write_file(dir + "/region.geojson",
               R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":)"
               R"({"type":"Polygon","coordinates":[[[7.415,43.728],[7.425,43.728],[7.425,43.738],[7.415,43.738],[7.415,43.728]]]}}]})");
    const auto a = catalog_ids(extract(input, dir + "/poly", "-q --polygon " + sh_quote(dir + "/region.geojson")));
    const auto b = catalog_ids(extract(input, dir + "/box", "-q --bbox 7.415,43.728,7.425,43.738"));
    CHECK(a.size() > 100);
    CHECK(a == b);
}

TEST_CASE("every node index --help lists gives the same catalog, geometries included") {
    // Renumbered ids (1, 2, 3...) keep the dense index as small as it is on the planet
    // relative to the input; with Monaco's real ids it would span 8.6 G slots.
    const auto dir = fresh_dir("extract_indexes");
    const auto input = dir + "/renumbered.osm.pbf";
    REQUIRE(run("osmium renumber -O " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(input)).exit_code == 0);
    // Every column of every row, the geometry as its GeoPackage blob (WKB) in hex.
    const std::string every_row = "SELECT osm_type || osm_id || ' ' || kind || ' ' || tags || ' ' || area_m2 || ' ' || length_m || ' ' || "
                                  "rep_lon || ' ' || rep_lat || ' ' || hex(geom) FROM objects ORDER BY osm_type, osm_id";
    const auto reference = sql_column(extract(input, dir + "/flex", "-q --node-index flex_mem"), every_row);
    CHECK(reference.size() > 5000);
    const auto help = run(sh_quote(binary()) + " extract --help").out;
    for (const std::string index : {"sparse_file_array", "dense_file_array", "auto"}) {
        CHECK_MESSAGE(help.find(index) != std::string::npos, index);
        const auto out = dir + "/" + index;
        const auto r = run(sh_quote(binary()) + " extract " + sh_quote(input) + " -o " + sh_quote(out) + " --node-index " + index);
        INFO(index << ": " << r.err);
        REQUIRE(r.exit_code == 0);
        const auto rows = sql_column(out + "/catalog.gpkg", every_row);
        CHECK(rows.size() == reference.size());
        CHECK(rows == reference);
        // The file-backed index is scratch: gone after the run.
        for (const auto& e : std::filesystem::directory_iterator(out)) // and OUT's lock file (build_lock.hpp)
            CHECK((e.path().filename() == "catalog.gpkg" || e.path().filename() == "build.lock"));
        // The dense index is filled in a phase of its own, which says what it costs.
        if (index == "dense_file_array") CHECK(r.err.find("filling the dense node index") != std::string::npos);
    }
}

TEST_CASE("a PBF with locations on its ways and no untagged nodes (osmium add-locations-to-ways) gives the plain file's catalog (round 36)") {
    // Before: the ways' own locations were replaced by lookups of nodes the file no longer has:
    // 1,634 objects of 5,355, exit 0, "2261 lines with nodes missing from the input".
    const auto dir = fresh_dir("extract_locations_on_ways");
    const auto plain = dir + "/renumbered.osm.pbf", located = dir + "/located.osm.pbf"; // small ids: the dense index fits
    REQUIRE(run("osmium renumber -O " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(plain)).exit_code == 0);
    REQUIRE(run("osmium add-locations-to-ways -O " + sh_quote(plain) + " -o " + sh_quote(located)).exit_code == 0);
    REQUIRE(run("osmium fileinfo -g header.option.pbf_optional_feature_0 " + sh_quote(located)).out.find("LocationsOnWays") != std::string::npos);
    const std::string every_row = "SELECT osm_type || osm_id || ' ' || kind || ' ' || tags || ' ' || area_m2 || ' ' || length_m || ' ' || "
                                  "rep_lon || ' ' || rep_lat || ' ' || hex(geom) FROM objects ORDER BY osm_type, osm_id";
    int run_no = 0;
    for (const std::string options : {"--threads 1", "--threads 2", "--node-index dense_file_array --threads 2", "--node-index sparse_file_array",
                                      "--read-sample on --threads 2"}) {
        INFO(options);
        const auto n = std::to_string(run_no++);
        const auto reference = sql_column(extract(plain, dir + "/plain-" + n, "-q " + options), every_row);
        CHECK(reference.size() > 1000);
        const auto rows = sql_column(extract(located, dir + "/located-" + n, "-q " + options), every_row);
        CHECK(rows.size() == reference.size());
        CHECK(rows == reference);
    }
}

TEST_CASE("a PBF named without .pbf keeps its data date (round 36)") {
    // Before: the extract read it (as PBF) but its header's date was looked for by the name's
    // format, none: input_osm_timestamp '' and the card's "data as of" lost.
    const auto dir = fresh_dir("extract_noext_date");
    std::filesystem::copy_file(data("osm/monaco-latest.osm.pbf"), dir + "/download.part");
    const auto expected = run("osmium fileinfo -g header.option.osmosis_replication_timestamp " + sh_quote(data("osm/monaco-latest.osm.pbf")));
    REQUIRE(expected.exit_code == 0);
    REQUIRE(expected.out.size() > 10);
    const auto gpkg = extract(dir + "/download.part", dir + "/out", "-q");
    CHECK(sql_column(gpkg, "SELECT value FROM skyscript_meta WHERE key = 'input_osm_timestamp'") ==
          std::vector<std::string>{expected.out.substr(0, expected.out.find('\n'))});
}

TEST_CASE("input whose relations come before its ways (valhalla nyc) works") {
    const auto dir = fresh_dir("extract_nyc");
    const auto gpkg = extract(data("osm/nyc.osm.pbf"), dir + "/out", "-q");
    // osmium export itself refuses this file; it compares against the sorted copy.
    REQUIRE(run("osmium export -O -f geojsonseq " + sh_quote(data("osm/nyc.osm.pbf")) + " -o " + sh_quote(dir + "/x.seq")).exit_code != 0);
    REQUIRE(run("osmium sort -O " + sh_quote(data("osm/nyc.osm.pbf")) + " -o " + sh_quote(dir + "/sorted.osm.pbf")).exit_code == 0);
    const auto theirs = osmium_objects_with(dir + "/sorted.osm.pbf", "building", dir);
    const auto ours = catalog_ids(gpkg, "json_extract(tags, '$.building') IS NOT NULL");
    CHECK(theirs.size() > 1000);
    CHECK(std::abs(double(ours.size()) - double(theirs.size())) <= 0.02 * double(theirs.size()));
}

TEST_CASE("a custom tag list replaces the default; +FILE adds to it") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_custom_tags");
    write_file(dir + "/tiny.tsv", "# only fountains and their material\namenity=fountain\tfeature\t0.2\nmaterial=*\tattribute\t0.2\n");
    const auto gpkg = extract(input, dir + "/tiny", "-q --tags " + sh_quote(dir + "/tiny.tsv"));
    const auto n = sql_int(gpkg, "SELECT count(*) FROM objects");
    CHECK(n > 0);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE focus_tag = 'amenity=fountain'") == n);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE tags NOT LIKE '{\"amenity\":\"fountain\"%'") == 0);

    write_file(dir + "/plus.tsv", "amenity=fountain\tfeature\t0.1\nshop=*\tfeature\t1\n");
    const auto plus = extract(input, dir + "/plus", "-q --tags " + sh_quote("+" + dir + "/plus.tsv"));
    const auto base = extract(input, dir + "/base", "-q");
    CHECK(sql_int(plus, "SELECT count(*) FROM objects WHERE focus_tag LIKE 'shop=%'") > 0);
    CHECK(sql_int(plus, "SELECT count(*) FROM objects") > sql_int(base, "SELECT count(*) FROM objects"));
    CHECK(sql_int(plus, "SELECT count(*) FROM objects WHERE focus_tag='amenity=fountain' AND max_gsd <> 0.1") == 0);
}

TEST_CASE("closed_way_is_area: area=yes/no decide; else an area value of a linear key, else no linear key makes an area") {
    using namespace osmium::builder::attr;
    osmium::memory::Buffer buffer{1024, osmium::memory::Buffer::auto_grow::yes};
    auto is_area = [&](std::initializer_list<std::pair<const char*, const char*>> tags) {
        buffer.clear();
        osmium::builder::add_way(buffer, _id(1), _tags(tags));
        return skyscript::osm::closed_way_is_area(buffer.get<osmium::Way>(0).tags());
    };
    CHECK(is_area({{"building", "yes"}}));
    CHECK(is_area({}));
    CHECK_FALSE(is_area({{"highway", "footway"}}));
    CHECK(is_area({{"highway", "pedestrian"}}));
    CHECK(is_area({{"name", "x"}, {"highway", "footway"}, {"area", "yes"}}));
    CHECK_FALSE(is_area({{"highway", "pedestrian"}, {"area", "no"}}));
    CHECK_FALSE(is_area({{"building", "yes"}, {"area", "no"}}));
    CHECK(is_area({{"highway", "footway"}, {"area", "maybe"}, {"landuse", "grass"}}) == false);
    CHECK_FALSE(is_area({{"natural", "coastline"}}));
    CHECK(is_area({{"natural", "wood"}}));
    CHECK(is_area({{"natural", "water"}, {"waterway", "riverbank"}}));
    CHECK(is_area({{"waterway", "dam"}, {"barrier", "wall"}}));  // an area value wins over another linear key
    CHECK_FALSE(is_area({{"barrier", "hedge"}, {"building", "yes"}}));
    CHECK_FALSE(is_area({{"power", "line"}}));
    CHECK(is_area({{"power", "substation"}}));
    CHECK_FALSE(is_area({{"aeroway", "runway"}}));
    CHECK(is_area({{"aeroway", "apron"}}));
    CHECK_FALSE(is_area({{"man_made", "pipeline"}}));
    CHECK(is_area({{"man_made", "pier"}}));
    CHECK_FALSE(is_area({{"railway", "rail"}}));
    CHECK(is_area({{"railway", "platform"}}));
    CHECK_FALSE(is_area({{"route", "ferry"}}));
    CHECK_FALSE(is_area({{"aerialway", "cable_car"}}));
    CHECK(is_area({{"highway", ""}, {"building", "yes"}}) == false); // an empty value is still a linear key's
}

TEST_CASE("closed linear ways stay lines; closed building ways are areas") {
    const auto dir = fresh_dir("extract_kinds");
    const auto gpkg = extract(data("osm/liechtenstein-2013-08-03.osm.pbf"), dir + "/out", "-q");
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE kind='a' AND focus_tag LIKE 'highway=%' "
                        "AND focus_tag NOT IN ('highway=pedestrian','highway=rest_area','highway=services','highway=platform') "
                        "AND json_extract(tags,'$.area') IS NULL") == 0);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE osm_type='w' AND kind='a' AND json_extract(tags,'$.building') IS NOT NULL") > 1000);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE osm_type='w' AND kind='w' AND focus_tag LIKE 'highway=%'") > 1000);
}

TEST_CASE("hidden objects (tunnels, underground, indoor, covered lines) are left out and counted") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_hidden");
    write_file(dir + "/nothing.tsv", "# hides nothing\n");
    const auto all = extract(input, dir + "/all", "-q --hidden " + sh_quote(dir + "/nothing.tsv"));
    const auto r = run(sh_quote(binary()) + " extract " + sh_quote(input) + " -o " + sh_quote(dir + "/out"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto gpkg = dir + "/out/catalog.gpkg";

    // Monaco's 164 tunnel=yes ways, found by osmium: candidates without the rules, gone with them.
    const auto tunnels = osmium_objects_with(input, "tunnel", dir);
    const auto with_all = catalog_ids(all), kept = catalog_ids(gpkg);
    std::vector<std::string> tunnels_all, tunnels_kept;
    std::set_intersection(tunnels.begin(), tunnels.end(), with_all.begin(), with_all.end(), std::back_inserter(tunnels_all));
    std::set_intersection(tunnels.begin(), tunnels.end(), kept.begin(), kept.end(), std::back_inserter(tunnels_kept));
    CHECK(tunnels_all.size() >= 164);
    CHECK(tunnels_kept.empty());
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE json_extract(tags,'$.tunnel') IS NOT NULL") == 0);
    CHECK(std::includes(with_all.begin(), with_all.end(), kept.begin(), kept.end()));

    // The rules of tag_filters/hidden.tsv evaluated by python3 on osmium's export of every
    // tag, for every candidate (the catalog without rules): the same set, the count printed.
    const auto seq = dir + "/all.geojsonseq";
    REQUIRE(run("osmium export -O -f geojsonseq -a type,id " + sh_quote(input) + " -o " + sh_quote(seq)).exit_code == 0);
    const auto py = run("/usr/bin/python3 -c " + sh_quote(R"PY(
import json, re, sqlite3, sys
rules = []
for line in open(sys.argv[1]):
    f = line.split('#', 1)[0].split()
    if f:
        rules.append((f[:-1], {'point', 'line', 'area'} if f[-1] == 'any' else set(f[-1].split(','))))
def number(v):
    try:
        return float(v)
    except ValueError:
        return None
def met(cond, tags):
    key, op, want = re.match(r'^([^=<>]+)([=<>])(.*)$', cond).groups()
    if key not in tags:
        return False
    v = tags[key]
    if op == '=':
        return v not in ('', 'no') if want == '*' else v == want
    x = number(v)
    return x is not None and (x < float(want) if op == '<' else x > float(want))
kinds = {'n': 'point', 'w': 'line', 'a': 'area'}
candidates = {t + str(i): kinds[k] for t, i, k in sqlite3.connect(sys.argv[2]).execute('SELECT osm_type, osm_id, kind FROM objects')}
hidden = set()
for line in open(sys.argv[3]):
    line = line.strip('\x1e\n ')
    if not line:
        continue
    p = json.loads(line)['properties']
    ref = p['@type'][0] + str(p['@id'])
    if ref in candidates and any(candidates[ref] in ks and all(met(c, p) for c in cs) for cs, ks in rules):
        hidden.add(ref)
print('\n'.join(sorted(hidden)))
)PY") + " " + sh_quote(source_dir() + "/tag_filters/hidden.tsv") + " " + sh_quote(all) + " " + sh_quote(seq));
    INFO(py.err);
    REQUIRE(py.exit_code == 0);
    const auto independent_lines = lines(py.out);
    const std::set<std::string> independent(independent_lines.begin(), independent_lines.end());
    std::set<std::string> dropped;
    std::set_difference(with_all.begin(), with_all.end(), kept.begin(), kept.end(), std::inserter(dropped, dropped.end()));
    CHECK(independent.size() > 250);
    CHECK(dropped == independent);
    CHECK(summary_count(r.out, "hidden") == static_cast<std::int64_t>(independent.size()));
    CHECK(sql_int(gpkg, "SELECT CAST(value AS INTEGER) FROM skyscript_meta WHERE key='hidden'") == static_cast<std::int64_t>(independent.size()));
    CHECK(sql_int(all, "SELECT CAST(value AS INTEGER) FROM skyscript_meta WHERE key='hidden'") == 0);

    // The summary names the rules used (red-team round 33: always tag_filters/hidden.tsv).
    CHECK(r.out.find("(not visible from above: tunnels, underground, indoor, covered; tag_filters/hidden.tsv)") != std::string::npos);
    write_file(dir + "/tunnels.tsv", "tunnel=* any\n");
    for (const auto& [option, said] : std::vector<std::pair<std::string, std::string>>{
             {dir + "/nothing.tsv", "(not visible from above: no rule: " + dir + "/nothing.tsv holds none)"},
             {dir + "/tunnels.tsv", "(not visible from above: the rules of " + dir + "/tunnels.tsv)"},
             {"+" + dir + "/tunnels.tsv", "(not visible from above: tunnels, underground, indoor, covered; tag_filters/hidden.tsv and " + dir + "/tunnels.tsv)"}}) {
        const auto named = run(sh_quote(binary()) + " extract " + sh_quote(input) + " -o " + sh_quote(dir + "/named") + " --hidden " + sh_quote(option));
        CHECK_MESSAGE(named.out.find(said) != std::string::npos, named.out);
    }
}

TEST_CASE("a sunken square at layer=-1 stays; a road below, a tunnel, a covered path and a car park under ground go") {
    const auto dir = fresh_dir("extract_hidden_kinds");
    // Closed ways need their nodes: four corners per area, two ends per line.
    std::string opl;
    int node = 0;
    auto add_node = [&](double lon, double lat) { // returns its ref, "n7"
        char buf[96];
        std::snprintf(buf, sizeof buf, "n%d v1 x%.7f y%.7f\n", ++node, lon, lat);
        opl += buf;
        return std::string(1, 'n').append(std::to_string(node));
    };
    auto square = [&](double lon, double lat) { // corners in order, each made before the next
        const auto a = add_node(lon, lat), b = add_node(lon + 1e-4, lat), c = add_node(lon + 1e-4, lat + 1e-4),
                   d = add_node(lon, lat + 1e-4);
        return a + "," + b + "," + c + "," + d + "," + a;
    };
    auto line = [&](double lon, double lat) {
        const auto a = add_node(lon, lat), b = add_node(lon + 1e-3, lat);
        return a + "," + b;
    };
    std::vector<std::string> ways = {
        "w1 v1 Tplace=square,highway=pedestrian,area=yes,layer=-1 N" + square(7.420, 43.730), // sunken square: kept
        "w2 v1 Tleisure=swimming_pool,layer=-1 N" + square(7.421, 43.730),                    // kept
        "w3 v1 Tbuilding=yes,covered=yes N" + square(7.422, 43.730),                          // a covered area is its roof: kept
        "w4 v1 Thighway=primary,tunnel=no N" + line(7.420, 43.731),                           // kept
        "w5 v1 Thighway=primary,layer=-1 N" + line(7.420, 43.732),                            // below something: hidden
        "w6 v1 Thighway=primary,tunnel=yes,layer=-1 N" + line(7.420, 43.733),                 // hidden
        "w7 v1 Thighway=footway,covered=yes N" + line(7.420, 43.734),                         // hidden
        "w8 v1 Trailway=subway,tunnel=yes N" + line(7.420, 43.735),                           // hidden
        "w9 v1 Tbuilding=yes,tunnel=building_passage N" + square(7.423, 43.730),              // hidden
        "w10 v1 Thighway=service,layer=1 N" + line(7.420, 43.736),                            // a bridge level: kept
    };
    opl += "n900 v1 x7.424 y43.730 Tamenity=parking,parking=underground\n"; // hidden
    opl += "n901 v1 x7.424 y43.731 Tamenity=bench,layer=-1\n";              // a point: layer says nothing, kept
    opl += "n902 v1 x7.424 y43.732 Tman_made=manhole,location=underground\n"; // hidden (if a candidate)
    opl += "n903 v1 x7.424 y43.733 Tamenity=bench,indoor=yes\n";             // hidden
    for (const auto& w : ways) opl += w + "\n";
    write_file(dir + "/hidden.opl", opl);
    REQUIRE(run("osmium cat -O " + sh_quote(dir + "/hidden.opl") + " -o " + sh_quote(dir + "/hidden.osm.pbf")).exit_code == 0);
    const auto gpkg = extract(dir + "/hidden.osm.pbf", dir + "/out", "-q");
    const std::set<std::string> expected{"w1", "w2", "w3", "w4", "w10", "n901"};
    CHECK(catalog_ids(gpkg) == expected);
    CHECK(sql_column(gpkg, "SELECT kind FROM objects WHERE osm_type='w' AND osm_id=1") == std::vector<std::string>{"a"});
    CHECK(sql_int(gpkg, "SELECT CAST(value AS INTEGER) FROM skyscript_meta WHERE key='hidden'") >= 6);
}

TEST_CASE("--polygon with overlapping features keeps the objects in their overlap, as GDAL's filter does") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_polygon_overlap");
    auto feature = [](double w, double s, double e, double n) {
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      R"({"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}})",
                      w, s, e, s, e, n, w, n, w, s);
        return std::string(buf);
    };
    write_file(dir + "/two.geojson", R"({"type":"FeatureCollection","features":[)" + feature(7.415, 43.728, 7.425, 43.738) + "," +
                                         feature(7.420, 43.733, 7.430, 43.743) + "]}");
    const auto full = extract(input, dir + "/full", "-q");
    const auto ours = catalog_ids(extract(input, dir + "/poly", "-q --polygon " + sh_quote(dir + "/two.geojson")));
    const auto overlap = catalog_ids(extract(input, dir + "/overlap", "-q --bbox 7.421,43.734,7.424,43.737"));
    REQUIRE(overlap.size() > 50);
    CHECK(std::includes(ours.begin(), ours.end(), overlap.begin(), overlap.end()));
    CHECK(ours == gdal_filter_ids(full, dir + "/two.geojson"));
}

TEST_CASE("--polygon with 100K vertices keeps the same objects as GDAL's spatial filter") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_polygon_large");
    // A wavy ring of 100,000 vertices around Monaco, like a coastline: its edge cuts
    // through streets and buildings all along.
    const auto gen = run("/usr/bin/python3 -c " + sh_quote(R"PY(
import json, math, sys
n = 100000
ring = []
for i in range(n):
    a = 2 * math.pi * i / n
    r = 0.009 + 0.002 * math.sin(41 * a) + 0.0004 * math.sin(997 * a) + 0.0001 * math.sin(9973 * a)
    ring.append([7.423 + r * math.cos(a) * 1.4, 43.736 + r * math.sin(a)])
ring.append(ring[0])
json.dump({'type': 'FeatureCollection', 'features': [{'type': 'Feature', 'properties': {},
           'geometry': {'type': 'Polygon', 'coordinates': [ring]}}]}, open(sys.argv[1], 'w'))
)PY") + " " + sh_quote(dir + "/wavy.geojson"));
    INFO(gen.err);
    REQUIRE(gen.exit_code == 0);
    const auto full = extract(input, dir + "/full", "-q");
    const auto ours = catalog_ids(extract(input, dir + "/wavy", "-q --polygon " + sh_quote(dir + "/wavy.geojson")));
    const auto gdal = gdal_filter_ids(full, dir + "/wavy.geojson");
    INFO("ours " << ours.size() << ", GDAL " << gdal.size() << ", catalog " << catalog_ids(full).size());
    CHECK(gdal.size() > 1000);
    CHECK(gdal.size() < catalog_ids(full).size());
    CHECK(ours == gdal);
}

TEST_CASE("the largest node id, read from a few PBF blobs, is osmium fileinfo's; auto weighs the dense index by it") {
    for (const std::string name : {"monaco-latest.osm.pbf", "liechtenstein-2013-08-03.osm.pbf", "kotka-pyrosm.osm.pbf", "nyc.osm.pbf"}) {
        INFO(name);
        const auto info = run("osmium fileinfo -e -g data.maxid.nodes " + sh_quote(data("osm/" + name)));
        REQUIRE(info.exit_code == 0);
        const auto ours = skyscript::osm::largest_node_id(data("osm/" + name));
        REQUIRE(ours);
        CHECK(*ours == std::stoull(info.out));
    }
    const auto dir = fresh_dir("extract_largest_id");
    write_file(dir + "/x.opl", "n5 v1 x7.42 y43.73\nn77 v1 x7.43 y43.74\nw1 v1 Nn5,n77\n");
    CHECK(skyscript::osm::largest_node_id(dir + "/x.opl") == 77u);
    CHECK_FALSE(skyscript::osm::largest_node_id(dir + "/missing.osm.pbf"));
    using skyscript::osm::choose_node_index;
    constexpr std::uint64_t GB = 1ULL << 30;
    CHECK(choose_node_index(GB, 12'000'000'000) == "flex_mem");
    CHECK(choose_node_index(80 * GB, 12'000'000'000) == "dense_file_array");   // the planet: 96 GB dense < ~160 GB sparse
    CHECK(choose_node_index(10 * GB, 12'000'000'000) == "sparse_file_array");  // a large extract with today's ids
    CHECK(choose_node_index(80 * GB, 0) == "dense_file_array");
}

TEST_CASE("--polygon with a MultiPolygon of 300 islands keeps the same objects as GDAL's spatial filter") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("extract_polygon_islands");
    // A grid of small squares with gaps between them: many parts, an index over them.
    std::string parts;
    for (int i = 0; i < 20; ++i)
        for (int j = 0; j < 15; ++j) {
            const double w = 7.405 + i * 0.002, s = 43.722 + j * 0.002, e = w + 0.0013, n = s + 0.0013;
            char buf[200];
            std::snprintf(buf, sizeof buf, "%s[[[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]]]", parts.empty() ? "" : ",", w, s, e, s, e, n, w, n,
                          w, s);
            parts += buf;
        }
    write_file(dir + "/islands.geojson", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[)" +
                                             parts + "]}}]}");
    const auto full = extract(input, dir + "/full", "-q");
    const auto ours = catalog_ids(extract(input, dir + "/islands", "-q --polygon " + sh_quote(dir + "/islands.geojson")));
    const auto gdal = gdal_filter_ids(full, dir + "/islands.geojson");
    INFO("ours " << ours.size() << ", GDAL " << gdal.size());
    CHECK(gdal.size() > 1000);
    CHECK(gdal.size() < catalog_ids(full).size());
    CHECK(ours == gdal);
}

TEST_CASE("a PBF sorted by type has only its last blobs read for relations, all of them; a header that claims it wrongly is read whole") {
    const auto dir = fresh_dir("extract_sorted_pbf");
    // Monaco as osmium writes it sorted (its Geofabrik copy does not say so): nodes, ways, relations.
    const auto monaco = data("osm/monaco-latest.osm.pbf");
    const auto sorted = dir + "/sorted.osm.pbf";
    REQUIRE(run("osmium cat -O --output-header=sorting=Type_then_ID " + sh_quote(monaco) + " -o " + sh_quote(sorted)).exit_code == 0);
    const auto raw = dir + "/raw.osm.pbf"; // blobs stored without compression
    REQUIRE(run("osmium cat -O --output-header=sorting=Type_then_ID -f pbf,pbf_compression=none " + sh_quote(monaco) + " -o " + sh_quote(raw)).exit_code == 0);
    struct Read {
        std::uint64_t relations = 0, first_offset = 0;
        std::vector<osmium::object_id_type> ids; // in the order handed on
    };
    auto read = [](const std::string& path, int decoders = 1) {
        Read r;
        osmium::thread::Pool pool{decoders};
        skyscript::osm::read_relations(skyscript::osm::open_input_file(path), pool, [&](const osmium::memory::Buffer& buffer, std::uint64_t offset) {
            if (!r.first_offset) r.first_offset = offset;
            for (const auto& rel : buffer.select<osmium::Relation>()) {
                r.relations += rel.id() != 0;
                r.ids.push_back(rel.id());
            }
        });
        return r;
    };
    // nyc's header says Type_then_ID but its relations come before its ways.
    for (const auto& path : {sorted, raw, monaco, data("osm/nyc.osm.pbf")}) {
        INFO(path);
        const auto info = run("osmium fileinfo -e -g data.count.relations " + sh_quote(path));
        REQUIRE(info.exit_code == 0);
        const auto r = read(path);
        CHECK(r.relations == std::stoull(info.out));
        CHECK(r.relations > 40);
        CHECK(read(path, 3).ids == r.ids); // the same relations in the same order, whatever the decoders
    }
    // The sorted copies are read from their last way blob on (osmium's Reader hands on the
    // first relations once it has read the whole file).
    // Their offsets are the ends of the blobs read, so they do not depend on the decoders either
    // (a file read whole reports how far osmium's reading thread has got: progress, which does).
    for (const auto& path : {sorted, raw}) {
        INFO(path);
        CHECK(read(path, 3).first_offset == read(path).first_offset);
        CHECK(read(path).first_offset > std::filesystem::file_size(path) / 2);
        CHECK(read(path).first_offset < std::filesystem::file_size(path));
    }
    // Both ways of reading the relations give the same catalog.
    const std::string every_row = "SELECT fid || ' ' || osm_type || osm_id || ' ' || kind || ' ' || tags || ' ' || area_m2 || ' ' || "
                                  "length_m || ' ' || rep_lon || ' ' || rep_lat || ' ' || hex(geom) FROM objects ORDER BY fid";
    const auto whole = sql_column(extract(monaco, dir + "/whole", "-q"), every_row);
    const auto tail = sql_column(extract(sorted, dir + "/tail", "-q"), every_row);
    CHECK(sql_int(dir + "/tail/catalog.gpkg", "SELECT count(*) FROM objects WHERE osm_type = 'r'") > 20);
    CHECK(tail.size() == whole.size());
    CHECK(tail == whole);
}

TEST_CASE("--threads 1, 2 and 4 give the same catalog, row for row in fid order, with and without a region, a read sample or a dense node index") {
    // Liechtenstein tiled 4 times: ~28 K ways in four blobs or more, so 2 and 4 threads really
    // hand way buffers to workers and finish them out of order (one blob would not).
    const auto dir = fresh_dir("extract_threads");
    const auto input = dir + "/li4.osm.pbf";
    const auto tiler = (std::filesystem::path(binary()).parent_path() / "bench-tile-input").string();
    REQUIRE(run(sh_quote(tiler) + " " + sh_quote(data("osm/liechtenstein-2013-08-03.osm.pbf")) + " 4 " + sh_quote(input)).exit_code == 0);
    REQUIRE(std::stoll(run("osmium fileinfo -e -g data.count.ways " + sh_quote(input)).out) > 3 * 8000);
    const std::string every_row = "SELECT fid || ' ' || osm_type || osm_id || ' ' || kind || ' ' || tags || ' ' || focus_tag || ' ' || "
                                  "area_m2 || ' ' || length_m || ' ' || rep_lon || ' ' || rep_lat || ' ' || hex(geom) FROM objects ORDER BY fid";
    const std::string index = "SELECT id || ' ' || minx || ' ' || maxx || ' ' || miny || ' ' || maxy FROM rtree_objects_geom ORDER BY id";
    const std::string meta = "SELECT key || '=' || value FROM skyscript_meta WHERE key != 'created' ORDER BY key";
    const std::pair<const char*, const char*> runs[] = {{"all", "--read-sample off"},
                                                        {"bbox", "--read-sample off --bbox 9.50,47.05,9.56,47.20"},
                                                        {"sampled", "--read-sample on --cells 40"},
                                                        // The planet's index: the workers store the node locations.
                                                        {"dense", "--read-sample off --node-index dense_file_array"}};
    for (const auto& [name, options] : runs) {
        std::vector<std::string> reference_rows, reference_index, reference_meta;
        for (const int threads : {1, 2, 4}) {
            const auto gpkg = extract(input, dir + "/" + name + "-" + std::to_string(threads),
                                      std::string(options) + " -q --tmp-dir " + sh_quote(dir) + " --threads " + std::to_string(threads));
            const auto rows = sql_column(gpkg, every_row), rtree = sql_column(gpkg, index), m = sql_column(gpkg, meta);
            INFO(name << ", --threads " << threads);
            if (threads == 1) {
                CHECK(rows.size() > 1000);
                reference_rows = rows, reference_index = rtree, reference_meta = m;
                continue;
            }
            CHECK(rows.size() == reference_rows.size());
            CHECK(rows == reference_rows);
            CHECK(rtree == reference_index);
            CHECK(m == reference_meta);
        }
    }
    // A bad count is refused, naming the option.
    const auto r = run(sh_quote(binary()) + " extract " + sh_quote(input) + " -o " + sh_quote(dir + "/bad") + " --threads many");
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("--threads") != std::string::npos);
}
