// End to end: `skyscript-build extract` on real extracts, checked with osmium-tool,
// GDAL (ogrinfo / ogr2ogr) and SQLite.

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
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

TEST_CASE("every node index gives the same catalog") {
    // Renumbered ids (1, 2, 3...) keep the dense index as small as it is on the planet
    // relative to the input; with Monaco's real ids it would span 8.6 G slots.
    const auto dir = fresh_dir("extract_indexes");
    const auto input = dir + "/renumbered.osm.pbf";
    REQUIRE(run("osmium renumber -O " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(input)).exit_code == 0);
    const auto reference = catalog_ids(extract(input, dir + "/flex", "-q --node-index flex_mem"));
    CHECK(reference.size() > 5000);
    for (const std::string index : {"sparse_file_array", "dense_file_array", "sparse_mem_array"}) {
        const auto out = dir + "/" + index;
        CHECK(catalog_ids(extract(input, out, "-q --node-index " + index)) == reference);
        // The file-backed index is scratch: gone after the run.
        for (const auto& e : std::filesystem::directory_iterator(out))
            CHECK(e.path().filename() == "catalog.gpkg");
    }
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

TEST_CASE("closed linear ways stay lines; closed building ways are areas") {
    const auto dir = fresh_dir("extract_kinds");
    const auto gpkg = extract(data("osm/liechtenstein-2013-08-03.osm.pbf"), dir + "/out", "-q");
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE kind='a' AND focus_tag LIKE 'highway=%' "
                        "AND focus_tag NOT IN ('highway=pedestrian','highway=rest_area','highway=services','highway=platform') "
                        "AND json_extract(tags,'$.area') IS NULL") == 0);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE osm_type='w' AND kind='a' AND json_extract(tags,'$.building') IS NOT NULL") > 1000);
    CHECK(sql_int(gpkg, "SELECT count(*) FROM objects WHERE osm_type='w' AND kind='w' AND focus_tag LIKE 'highway=%'") > 1000);
}
