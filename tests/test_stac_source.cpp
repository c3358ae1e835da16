// The `stac` source kind (issue 21) against the loopback STAC API of tests/stac_api_server.py,
// with the Cloud-Optimized GeoTIFFs made from a test raster served by nginx (range requests,
// a server we did not write), or, where a test needs tokens checked or faults injected, by
// the STAC server's own /cog/. Items: the west and the east half of the raster (little
// cloud) and a newer, cloudy item of the whole raster with its colours inverted. Checked:
// one item per tile, a tile needing two items mosaicked, the least cloudy item first with
// max_cloud and the newest without, paging (one item a page), no item on a tile is "no
// imagery"; pixels equal a gdal source reading the raster itself, within resampling noise,
// and a gdal source reading the same COG file, exactly; dates choose among the items.

#include "imagery/image_source.hpp"
#include "imagery/source_config.hpp"
#include "imagery/sources/stac/stac_kind.hpp"
#include "imagery/sources/stac/stac_search.hpp"
#include "imagery/url_parts.hpp"
#include "nginx_server.hpp"
#include "pipeline_fixture.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cpl_conv.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

using namespace skyscript::imagery;
using namespace skyscript::test;
using json = nlohmann::json;

namespace {

// The items' footprints: dop-rgb.tif covers 9.4976..9.5128 E, 53.5088..53.5179 N; the halves meet at 9.505.
// `cog`: the href, "{base}/cog/NAME" for the STAC server's own store.
json item(const std::string& id, double west, double east, const std::string& datetime, double cloud, const std::string& cog) {
    const double s = 53.5088, n = 53.5179;
    return {{"type", "Feature"},
            {"stac_version", "1.0.0"},
            {"id", id},
            {"collection", "dop"},
            {"geometry", {{"type", "Polygon"}, {"coordinates", {{{west, s}, {east, s}, {east, n}, {west, n}, {west, s}}}}}},
            {"bbox", {west, s, east, n}},
            {"properties", {{"datetime", datetime}, {"eo:cloud_cover", cloud}}},
            {"assets", {{"visual", {{"href", cog}, {"type", "image/tiff; application=geotiff; profile=cloud-optimized"}}}}},
            {"links", json::array()}};
}

struct StacFixture {
    std::string dir, sources;
    std::unique_ptr<NginxServer> nginx; // serves the COGs
    std::unique_ptr<ServerProcess> server;
    // `server_options`: more arguments of the STAC server (--without sortby, ...).
    explicit StacFixture(const std::vector<std::string>& server_options = {}) {
        dir = fresh_dir("stac-source");
        const auto raster = data("imagery/dop-rgb.tif");
        auto cog = [&](const std::string& args, const std::string& name) {
            const auto r = run("gdal_translate -q -of COG " + args + " " + sh_quote(raster) + " " + sh_quote(dir + "/" + name));
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        };
        cog("-projwin_srs EPSG:4326 -projwin 9.4970 53.5185 9.5050 53.5080", "west.tif");
        cog("-projwin_srs EPSG:4326 -projwin 9.5050 53.5185 9.5135 53.5080", "east.tif");
        cog("-scale 0 255 255 0", "inverted.tif");
        nginx = std::make_unique<NginxServer>(dir, dir + "/nginx");
        const json items = {item("west-2021", 9.4970, 9.5050, "2021-06-01T10:00:00Z", 5, nginx->url("/west.tif")),
                            item("east-2020", 9.5050, 9.5135, "2020-05-01T09:30:00Z", 10, nginx->url("/east.tif")),
                            item("whole-2022-cloudy", 9.4970, 9.5135, "2022-03-01T11:00:00Z", 90, nginx->url("/inverted.tif"))};
        write_file(dir + "/items.json", items.dump());
        // One item a page: every search pages, the client must follow `next` (merge style).
        std::vector<std::string> argv{"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir,
                                      "--default-limit", "1", "--max-limit", "1", "--next-style", "merge"};
        argv.insert(argv.end(), server_options.begin(), server_options.end());
        server = std::make_unique<ServerProcess>(argv);
        sources = dir + "/sources.toml";
        const std::string stac = "kind = \"stac\"\napi = \"" + server->url("/") + "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n";
        write_file(sources, "[[source]]\nalias = \"CLEAR\"\n" + stac + "max_cloud = 50\n\n[[source]]\nalias = \"NEWEST\"\n" + stac +
                                "\n[[source]]\nalias = \"IN2020\"\n" + stac + "dates = [\"2020-01-01\", \"2020-12-31\"]\n" +
                                "\n[[source]]\nalias = \"FROM2021\"\n" + stac + "dates = [\"2021-01-01\", \"\"]\nmax_cloud = 50\n" +
                                "\n[[source]]\nalias = \"REF\"\nkind = \"gdal\"\npath = \"" + raster + "\"\ngsd = 2\nyear = 2021\n" +
                                "\n[[source]]\nalias = \"WESTCOG\"\nkind = \"gdal\"\npath = \"" + dir + "/west.tif\"\ngsd = 2\nyear = 2021\n");
    }
    SourceConfig source(const std::string& alias) const {
        for (auto& s : load_sources_file(sources))
            if (s.alias == alias) return s;
        throw std::runtime_error("no source " + alias);
    }
    std::map<std::uint64_t, FetchedTile> fetch(const std::string& alias, const std::vector<TileJob>& tiles) const {
        auto src = open_image_source(source(alias));
        std::map<std::uint64_t, FetchedTile> out;
        std::mutex m;
        src->fetch(tiles, [&](FetchedTile&& t) {
            std::lock_guard lock(m);
            out[t.id] = std::move(t);
        });
        return out;
    }
    json stats() const { return json::parse(http_get(server->url("/stats"))); }
};

// An item of the Monaco rendering (collection "render"), from `west` to `east`, 43.723..43.753 N.
json monaco_item(const std::string& id, double west, double east, const std::string& href) {
    json it = item(id, west, east, "2023-04-05T10:11:00Z", 3, href);
    it["collection"] = "render";
    it["bbox"] = {west, 43.723, east, 43.753};
    it["geometry"]["coordinates"] = {{{west, 43.723}, {east, 43.723}, {east, 43.753}, {west, 43.753}, {west, 43.723}}};
    return it;
}

// The Monaco rendering from `west` to `east` as a COG.
void monaco_cog(double west, double east, const std::string& path) {
    const auto r = run("gdal_translate -q -of COG -projwin_srs EPSG:4326 -projwin " + std::to_string(west) + " 43.753 " + std::to_string(east) +
                       " 43.723 " + sh_quote(monaco().raster) + " " + sh_quote(path));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

// A loopback STAC API of one item, `id`: the Monaco rendering from `west` to `east` as a COG
// (DIR/ID.tif) behind nginx; DIR/items.json lists it.
struct OneItemStac {
    NginxServer nginx;
    ServerProcess api;
    OneItemStac(const std::string& dir, const std::string& id, double west, double east)
        : nginx((monaco_cog(west, east, dir + "/" + id + ".tif"), dir), dir + "/nginx"),
          api((write_file(dir + "/items.json", json::array({monaco_item(id, west, east, nginx.url("/" + id + ".tif"))}).dump()),
               std::vector<std::string>{"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir})) {}
};

// The bare command on Monaco's extract, `limit` objects, with these sources.
CommandResult monaco_build(const std::string& out, const std::string& sources, int limit) {
    return run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --sources " +
               sh_quote(sources) + " --bbox " + monaco_box + " --limit " + std::to_string(limit) + " -q");
}

// tests/check_stac_schemas.py with these arguments (an API root, or --item FILE).
CommandResult check_stac_schemas(const std::string& args) {
    return run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_stac_schemas.py") + " " + args);
}

double mean_abs_rgb_diff(const RgbImage& a, const RgbImage& b) {
    REQUIRE(a.rgb.size() == b.rgb.size());
    double sum = 0;
    for (std::size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    return sum / double(a.rgb.size());
}

} // namespace

TEST_CASE("stac: one item, two items mosaicked, the least cloudy or the newest, paging, and no item is 'no imagery'") {
    StacFixture f;
    const std::vector<TileJob> tiles{{1, make_tile_grid(9.5000, 53.5130, 200, 2)},  // the west half only
                                     {2, make_tile_grid(9.5050, 53.5130, 200, 2)},  // across the seam: west + east
                                     {3, make_tile_grid(9.5100, 53.5120, 200, 2)},  // the east half only
                                     {4, make_tile_grid(9.6000, 53.5130, 200, 2)}}; // no item there
    const auto clear = f.fetch("CLEAR", tiles);
    const auto ref = f.fetch("REF", tiles);
    REQUIRE(clear.size() == 4);
    for (const std::uint64_t id : {1, 2, 3}) {
        const auto& t = clear.at(id);
        INFO("tile " << id << ": " << t.error);
        REQUIRE(t.ok);
        CHECK(t.image.valid_fraction() == doctest::Approx(1.0));
        REQUIRE(ref.at(id).ok);
        CHECK(mean_abs_rgb_diff(t.image, ref.at(id).image) < 2.0); // the raster's own pixels, not the inverted item's
    }
    CHECK(clear.at(1).time_ms == *parse_iso_time_ms("2021-06-01T10:00:00Z"));
    CHECK(clear.at(2).time_ms == *parse_iso_time_ms("2021-06-01T10:00:00Z")); // the least cloudy item, most of the tile
    CHECK(clear.at(3).time_ms == *parse_iso_time_ms("2020-05-01T09:30:00Z"));
    // Provenance: the item that gives the tile its pixels, for the meta.
    const auto p2 = json::parse(clear.at(2).provenance);
    CHECK(p2["stac_item"] == "west-2021");
    CHECK(p2["collection"] == "dop");
    CHECK(p2["datetime"] == "2021-06-01T10:00:00Z");
    CHECK(p2["cloud_cover"] == 5);
    CHECK(p2["assets"][0].get<std::string>().ends_with(":" + std::to_string(f.nginx->port()) + "/west.tif"));
    CHECK(json::parse(clear.at(3).provenance)["stac_item"] == "east-2020");
    CHECK(clear.at(4).provenance.empty());
    CHECK_FALSE(clear.at(4).ok);
    CHECK(clear.at(4).no_imagery); // the fallback's "no image here"
    CHECK(clear.at(4).error.find("no item over this tile below 50% cloud") != std::string::npos);

    // Every search paged through its items one by one (the server's limit is 1).
    const auto st = f.stats();
    std::size_t later_pages = 0;
    for (const auto& s : st["searches"]) later_pages += s["next_page"].get<bool>();
    CHECK(later_pages > 0);
    CHECK(st["search_400"].empty());
    CHECK(st["cog_requests"] == 0);               // the COGs came from nginx
    CHECK(f.nginx->requests("GET", 206) > 0);  // in ranges,
    CHECK(f.nginx->requests("GET", 200) == 0); // never a whole file
    // The same COG read by a gdal source: the same pixels (one reader, one resampling).
    const auto west_cog = f.fetch("WESTCOG", tiles);
    REQUIRE(west_cog.at(1).ok);
    CHECK(mean_abs_rgb_diff(clear.at(1).image, west_cog.at(1).image) < 0.01);

    // Without max_cloud: the newest item first, which is the inverted, cloudy one.
    const auto newest = f.fetch("NEWEST", tiles);
    REQUIRE(newest.at(1).ok);
    CHECK(newest.at(1).time_ms == *parse_iso_time_ms("2022-03-01T11:00:00Z"));
    CHECK(mean_abs_rgb_diff(newest.at(1).image, ref.at(1).image) > 40);
    CHECK(newest.at(4).no_imagery);

    // Dates: within 2020 only the east half has an item; since 2021 and clear, only the west.
    const auto in2020 = f.fetch("IN2020", tiles);
    CHECK(in2020.at(1).no_imagery);
    CHECK(in2020.at(1).error.find("between 2020-01-01 and 2020-12-31") != std::string::npos);
    REQUIRE(in2020.at(3).ok);
    CHECK(json::parse(in2020.at(3).provenance)["stac_item"] == "east-2020");
    const auto since2021 = f.fetch("FROM2021", tiles);
    REQUIRE(since2021.at(1).ok);
    CHECK(json::parse(since2021.at(1).provenance)["stac_item"] == "west-2021");
    CHECK(since2021.at(3).no_imagery);
    REQUIRE(since2021.at(2).ok); // across the seam: the west half only
    CHECK(since2021.at(2).image.valid_fraction() == doctest::Approx(0.5).epsilon(0.05));

    // What the test API serves is STAC: its collection and items pass the STAC 1.0.0 JSON
    // schemas (bundled, checked offline) ...
    const auto valid = check_stac_schemas(sh_quote(f.server->url("/")));
    CHECK_MESSAGE(valid.exit_code == 0, valid.out << valid.err);
    CHECK(valid.out == "ok: 1 collections, 3 items\n");
    // ... which do refuse what is not: an item naming its collection without linking to it.
    const auto invalid = check_stac_schemas("--item " + sh_quote(f.dir + "/items.json"));
    CHECK(invalid.exit_code == 1);
    CHECK(invalid.out.find("item west-2021: 'dop' should not be valid") != std::string::npos);
}

TEST_CASE("stac against an API without the sort and query extensions (as swisstopo's lacks sort): asked for neither, the same choice made here") {
    StacFixture f({"--without", "sortby", "--without", "query"});
    const std::vector<TileJob> tiles{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}, {3, make_tile_grid(9.5100, 53.5120, 200, 2)}};
    const auto clear = f.fetch("CLEAR", tiles);
    REQUIRE(clear.at(1).ok);
    CHECK(clear.at(1).time_ms == *parse_iso_time_ms("2021-06-01T10:00:00Z")); // not the cloudy, newer item the API lists first
    CHECK(clear.at(3).time_ms == *parse_iso_time_ms("2020-05-01T09:30:00Z"));
    const auto newest = f.fetch("NEWEST", tiles);
    CHECK(newest.at(1).time_ms == *parse_iso_time_ms("2022-03-01T11:00:00Z"));
    const auto st = f.stats();
    CHECK(st["search_400"].empty()); // no search sent what the API does not offer
    CHECK(st["searches"].size() > 2);
    // The cloud cover asked for in CQL2 instead, which this API offers (the first page of each search).
    std::size_t with_filter = 0, first_pages = 0;
    for (const auto& s : st["searches"]) {
        if (s["next_page"].get<bool>()) continue;
        ++first_pages;
        CHECK_FALSE(s["params"].contains("query"));
        CHECK_FALSE(s["params"].contains("sortby"));
        with_filter += s["params"].contains("filter") && s["params"]["filter"]["op"] == "<";
    }
    CHECK(with_filter > 0);
    CHECK(with_filter < first_pages); // NEWEST (no max_cloud) filters nothing
}

TEST_CASE("stac: the search body, items missing an asset, next pages in the three shapes, ISO times") {
    const auto toml = "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"https://example.org/stac/\"\ncollection = \"c\"\nassets = [\"red\", \"green\", \"blue\"]\n"
                      "gsd = 30\nmax_cloud = 20\ndates = [\"2020-01-01\", \"\"]\nstretch = [0, 3000]\n";
    const auto src = parse_sources(toml, "t.toml").at(0);
    const auto body = stac_search_body(src, {1, 2, 3, 4}, 100);
    CHECK(body["collections"] == json::array({"c"}));
    CHECK(body["bbox"] == json::array({1, 2, 3, 4}));
    CHECK(body["datetime"] == "2020-01-01T00:00:00Z/..");
    CHECK(body["query"]["eo:cloud_cover"]["lt"] == 20);
    CHECK(body["sortby"][0]["field"] == "properties.eo:cloud_cover");
    CHECK(body["sortby"][1]["direction"] == "desc");

    const json page = {{"type", "FeatureCollection"},
                       {"features",
                        {{{"id", "a"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", "2020-02-03T04:05:06+01:00"}}},
                          {"assets", {{"red", {{"href", "r"}}}, {"green", {{"href", "g"}}}, {"blue", {{"href", "b"}}}}}},
                         {{"id", "no-blue"}, {"bbox", {0, 0, 1, 1}}, {"assets", {{"red", {{"href", "r"}}}, {"green", {{"href", "g"}}}}}}}},
                       {"links", {{{"rel", "next"}, {"href", "https://x/search"}, {"method", "POST"}, {"body", {{"token", "t2"}}}, {"merge", true}}}}};
    const auto items = stac_items(page, {"red", "green", "blue"});
    REQUIRE(items.size() == 1);
    CHECK(items[0].hrefs == std::vector<std::string>{"r", "g", "b"});
    CHECK(items[0].time_ms == *parse_iso_time_ms("2020-02-03T03:05:06Z"));
    // An item of the epoch's first instant has a time (0 says none: it had been year 0, red-team round 39).
    json epoch = page["features"][0];
    epoch["properties"]["datetime"] = "1970-01-01T00:00:00Z";
    const auto at_epoch = stac_items(json{{"features", {epoch}}}, {"red", "green", "blue"});
    REQUIRE(at_epoch.size() == 1);
    CHECK(at_epoch[0].time_ms == 1);
    const auto merged = stac_next_page(page, body);
    REQUIRE(merged);
    CHECK(merged->body["token"] == "t2");
    CHECK(merged->body["collections"] == body["collections"]); // merged into what was sent
    json token_only = page;
    token_only["links"][0].erase("merge");
    CHECK(stac_next_page(token_only, body)->body == json{{"token", "t2"}});
    json get = page;
    get["links"] = {{{"rel", "next"}, {"href", "https://x/search?token=t3"}}};
    CHECK(stac_next_page(get, body)->method == "GET");
    CHECK_FALSE(stac_next_page(json{{"features", json::array()}}, body));
    CHECK_THROWS(stac_items(json::array(), {"visual"}));
    // A server's fields of the wrong type are read as they can be, never thrown at the search:
    // a numeric id is its digits, a collection that is an object none; "merge": "true" merges,
    // a method that is not a string is GET.
    json odd = page;
    odd["features"][0]["id"] = 12345;
    odd["features"][0]["collection"] = json::object();
    odd["links"][0]["merge"] = "true";
    const auto odd_items = stac_items(odd, {"red", "green", "blue"});
    REQUIRE(odd_items.size() == 1);
    CHECK(odd_items[0].id == "12345");
    CHECK(odd_items[0].collection.empty());
    CHECK(stac_next_page(odd, body)->body["collections"] == body["collections"]);
    odd["links"][0]["method"] = 5;
    odd["links"][0]["rel"] = json::array();
    CHECK_FALSE(stac_next_page(odd, body)); // no rel "next": no next page
    odd["links"][0]["rel"] = "next";
    CHECK(stac_next_page(odd, body)->method == "GET");
    CHECK_FALSE(parse_iso_time_ms("yesterday"));
    // A server that ignores the search's collections and datetime: its other items are dropped
    // here (another product's pixels under this source's name and licence, another year's).
    {
        const auto dated = parse_sources("[[source]]\nalias = \"D\"\nkind = \"stac\"\napi = \"https://example.org/stac/\"\ncollection = \"c\"\n"
                                         "assets = [\"visual\"]\ngsd = 1\ndates = [\"2020-01-01\", \"2020-12-31\"]\n",
                                         "d.toml")
                               .at(0);
        const json items_page = {{"type", "FeatureCollection"},
                                 {"features",
                                  {{{"id", "in"}, {"collection", "c"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", "2020-06-01T00:00:00Z"}}}, {"assets", {{"visual", {{"href", "v"}}}}}},
                                   {{"id", "other-product"}, {"collection", "x"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", "2020-06-01T00:00:00Z"}}}, {"assets", {{"visual", {{"href", "v"}}}}}},
                                   {{"id", "later"}, {"collection", "c"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", "2024-06-01T00:00:00Z"}}}, {"assets", {{"visual", {{"href", "v"}}}}}},
                                   {{"id", "earlier"}, {"collection", "c"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", "2019-12-31T23:00:00Z"}}}, {"assets", {{"visual", {{"href", "v"}}}}}},
                                   {{"id", "span-over"}, {"collection", "c"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", nullptr}, {"start_datetime", "2019-06-01T00:00:00Z"}, {"end_datetime", "2020-02-01T00:00:00Z"}}}, {"assets", {{"visual", {{"href", "v"}}}}}},
                                   {{"id", "annual"}, {"collection", "c"}, {"bbox", {0, 0, 1, 1}}, {"properties", {{"datetime", "2019-01-01T00:00:00Z"}, {"start_datetime", "2019-01-01T00:00:00Z"}, {"end_datetime", "2020-12-31T23:59:59Z"}}}, {"assets", {{"visual", {{"href", "v"}}}}}},
                                   {{"id", "no-time"}, {"collection", "c"}, {"bbox", {0, 0, 1, 1}}, {"properties", json::object()}, {"assets", {{"visual", {{"href", "v"}}}}}}}}};
        auto kept = stac_items(items_page, {"visual"});
        REQUIRE(kept.size() == 7);
        stac_filter_and_sort(kept, dated);
        std::vector<std::string> ids;
        for (const auto& i : kept) ids.push_back(i.id);
        CHECK(ids == std::vector<std::string>{"annual", "in", "span-over"});
    }

    // swisstopo's items name their assets after their files, one per GSD: a pattern picks one.
    const std::string swiss = "swissimage-dop10_2021_2594-1138";
    const json swiss_page = {{"features",
                              {{{"id", swiss}, {"bbox", {7, 46, 7.1, 46.1}}, {"properties", {{"datetime", "2021-08-01T00:00:00Z"}}},
                                {"assets",
                                 {{swiss + "_2_2056.tif", {{"href", "https://data.geo.admin.ch/x/" + swiss + "_2_2056.tif"}, {"gsd", 2}}},
                                  {swiss + "_0.1_2056.tif", {{"href", "https://data.geo.admin.ch/x/" + swiss + "_0.1_2056.tif"}, {"gsd", 0.1}}}}}}}}};
    const auto swiss_items = stac_items(swiss_page, {"*_0.1_2056.tif"});
    REQUIRE(swiss_items.size() == 1);
    CHECK(swiss_items[0].hrefs == std::vector<std::string>{"https://data.geo.admin.ch/x/" + swiss + "_0.1_2056.tif"});
    CHECK(stac_items(swiss_page, {"*_0.25_2056.tif"}).empty());

    // A tile in an item's bbox but off its footprint (a swath's slanted edge) is not that item's.
    const json swath_page = {{"features",
                              {{{"id", "swath"}, {"bbox", {0, 0, 10, 10}}, {"properties", {{"datetime", "2022-01-01T00:00:00Z"}}},
                                {"geometry", {{"type", "Polygon"}, {"coordinates", {{{0, 0}, {10, 0}, {0, 10}, {0, 0}}}}}},
                                {"assets", {{"visual", {{"href", "s"}}}}}},
                               {{"id", "no-geometry"}, {"bbox", {0, 0, 10, 10}}, {"properties", {{"datetime", "2021-01-01T00:00:00Z"}}},
                                {"assets", {{"visual", {{"href", "n"}}}}}}}}};
    const auto swath_items = stac_items(swath_page, {"visual"});
    REQUIRE(swath_items.size() == 2);
    CHECK(swath_items[0].footprint);
    CHECK_FALSE(swath_items[1].footprint); // the bbox serves
    CHECK(stac_items_on_tile(swath_items, {1, 1, 2, 2}).size() == 2);
    const auto off_swath = stac_items_on_tile(swath_items, {7, 7, 9, 9});
    REQUIRE(off_swath.size() == 1);
    CHECK(off_swath[0]->id == "no-geometry");

    // sortby: sent as the sort extension writes it, and the same order made here; items
    // without the property come last.
    const auto by_gsd = parse_sources("[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"https://e/\"\ncollection = \"c\"\nassets = [\"visual\"]\n"
                                      "gsd = 1\nsortby = [\"+gsd\", \"-datetime\"]\n",
                                      "t.toml")
                            .at(0);
    CHECK(stac_search_body(by_gsd, {1, 2, 3, 4}, 10)["sortby"] ==
          json::array({{{"field", "properties.gsd"}, {"direction", "asc"}}, {{"field", "properties.datetime"}, {"direction", "desc"}}}));
    auto feature = [](const std::string& id, const json& props) {
        return json{{"id", id}, {"bbox", {0, 0, 1, 1}}, {"properties", props}, {"assets", {{"visual", {{"href", id}}}}}};
    };
    const json sorted_page = {{"features",
                               {feature("no-gsd", {{"datetime", "2024-01-01T00:00:00Z"}}),
                                feature("coarse-new", {{"gsd", 0.5}, {"datetime", "2023-01-01T00:00:00Z"}}),
                                feature("fine-old", {{"gsd", 0.1}, {"datetime", "2019-01-01T00:00:00Z"}}),
                                feature("fine-new", {{"gsd", 0.1}, {"datetime", "2021-01-01T00:00:00+02:00"}})}}};
    auto ordered = stac_items(sorted_page, {"visual"}, by_gsd.settings_as<StacSettings>().sortby);
    stac_filter_and_sort(ordered, by_gsd);
    std::vector<std::string> order;
    for (const auto& i : ordered) order.push_back(i.id);
    CHECK(order == std::vector<std::string>{"fine-new", "fine-old", "coarse-new", "no-gsd"});
    // The default: least cloudy then newest with max_cloud, newest without.
    CHECK(src.settings_as<StacSettings>().sortby == std::vector<StacSortKey>{{"eo:cloud_cover", true}, {"datetime", false}});

    // Errors name the key: no assets, four assets, bands with three assets, a cloud over 100.
    auto error = [](const std::string& text) {
        try {
            (void)parse_sources(text, "e.toml");
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string head = "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"https://e/\"\ncollection = \"c\"\ngsd = 10\n";
    CHECK(error(head).find("needs `assets`") != std::string::npos);
    CHECK(error(head + "assets = [\"a\", \"b\", \"c\", \"d\"]\n").find("needs `assets`") != std::string::npos);
    CHECK(error(head + "assets = [\"r\", \"g\", \"b\"]\nbands = [1, 2, 3]\n").find("with three assets leave it out") != std::string::npos);
    CHECK(error(head + "assets = [\"visual\"]\nsortby = [\"datetime\"]\n").find("sortby takes \"+property\"") != std::string::npos);
    CHECK(error(head + "assets = [\"visual\"]\nmax_cloud = 120\n").find("max_cloud must be a percentage") != std::string::npos);
    CHECK(error("[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"ftp://e/\"\ncollection = \"c\"\ngsd = 10\nassets = [\"v\"]\n").find("http://") !=
          std::string::npos);
}

TEST_CASE("stac, Planetary Computer signing: a token per collection, reused, renewed when a read is refused; no token in any message") {
    const auto dir = fresh_dir("stac-signed");
    // Four times as many pixels: tiles elsewhere read blocks GDAL has not cached yet.
    REQUIRE(run("gdal_translate -q -of COG -outsize 400% 400% " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/dop.tif")).exit_code == 0);
    write_file(dir + "/items.json", json::array({item("whole", 9.4970, 9.5135, "2021-06-01T10:00:00Z", 5, "{base}/cog/dop.tif")}).dump());
    // Tokens say they live an hour but die after 4 s, as a revoked one does: only a 403 tells.
    // (4 s: the first two tiles' reads, slow on a loaded machine, must all fall in one token's life.)
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir, "--sign",
                          "--token-valid-s", "4"});
    const std::string head = "kind = \"stac\"\napi = \"" + server.url("") + "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n";
    // The assets' host is named for signing; PCELSE signs only Azure Blob Storage's, as Microsoft's client does.
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"PC\"\n" + head + "sign = \"planetary-computer\"\ntoken_url = \"" +
                                          server.url("/api/sas/v1/token/") + "\"\nsign_hosts = [\"127.0.0.1\"]\n\n[[source]]\nalias = \"UNSIGNED\"\n" + head +
                                          "\n[[source]]\nalias = \"PCELSE\"\n" + head + "sign = \"planetary-computer\"\ntoken_url = \"" +
                                          server.url("/api/sas/v1/token/") + "\"\n");
    auto source_of = [&](const std::string& alias) {
        for (auto& s : load_sources_file(dir + "/sources.toml"))
            if (s.alias == alias) return s;
        throw std::runtime_error(alias);
    };
    const std::vector<TileJob> first{{1, make_tile_grid(9.5000, 53.5130, 100, 0.5)}, {2, make_tile_grid(9.5080, 53.5120, 100, 0.5)}};
    const std::vector<TileJob> later{{3, make_tile_grid(9.4995, 53.5100, 100, 0.5)}, {4, make_tile_grid(9.5110, 53.5160, 100, 0.5)}};
    auto fetch_with = [&](ImageSource& src, const std::vector<TileJob>& tiles) {
        std::map<std::uint64_t, FetchedTile> out;
        std::mutex m;
        src.fetch(tiles, [&](FetchedTile&& t) {
            std::lock_guard lock(m);
            out[t.id] = std::move(t);
        });
        return out;
    };
    auto stats = [&] { return json::parse(http_get(server.url("/stats"))); };
    const auto pc = open_image_source(source_of("PC"));
    for (const auto& [id, t] : fetch_with(*pc, first)) CHECK_MESSAGE(t.ok, t.error);
    CHECK(stats()["tokens_issued"] == 1); // one token for both tiles and every range read
    std::this_thread::sleep_for(std::chrono::milliseconds(4200));
    for (const auto& [id, t] : fetch_with(*pc, later)) {
        CHECK_MESSAGE(t.ok, t.error); // refused, renewed, read
        CHECK(t.provenance.find("sig") == std::string::npos); // the asset as published, no token
        CHECK(json::parse(t.provenance)["assets"][0].get<std::string>().ends_with("/cog/dop.tif"));
    }
    const auto st = stats();
    CHECK(st["tokens_issued"] == 2);
    CHECK(st["cog_403"]["expired"].get<int>() >= 1);

    // Unsigned against a signing store: the tile fails with the store's refusal, not "no imagery".
    const auto unsigned_source = open_image_source(source_of("UNSIGNED"));
    for (const auto& [id, t] : fetch_with(*unsigned_source, first)) {
        CHECK_FALSE(t.ok);
        CHECK_FALSE(t.no_imagery);
        // GDAL tells the 403 only when the open is refused; a refused block read says "IReadBlock failed".
        CHECK(t.error.find("/cog/dop.tif") != std::string::npos);
        CHECK(t.error.find("sig=") == std::string::npos);
    }
    // An asset on a host sign_hosts does not name gets no token (before: any host a catalogue
    // named got the storage's token): read unsigned, refused by the store (signed, as PC's, it
    // is read), no token asked for.
    const auto elsewhere = open_image_source(source_of("PCELSE"));
    for (const auto& [id, t] : fetch_with(*elsewhere, first)) {
        CHECK_FALSE(t.ok);
        CHECK(t.error.find("sig=") == std::string::npos);
    }
    CHECK(stats()["tokens_issued"] == 2);
}

TEST_CASE("stac in a build: its images carry their item in meta.jsonl and the pickles; where no item is, the next source serves") {
    const auto& m = monaco();
    const auto dir = fresh_dir("stac-build");
    // The rendering's west half as a COG behind one item; RENDER (the whole rendering) behind it.
    const OneItemStac stac(dir, "monaco-west", 7.405, 7.4225);
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"OPEN\"\nkind = \"stac\"\napi = \"" + stac.api.url("") +
                                          "\"\ncollection = \"render\"\nassets = [\"visual\"]\ngsd = 0.5\nlicence = \"CC0 test rendering\"\n\n"
                                          "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2021\n");
    const auto out = dir + "/out";
    const auto r = monaco_build(out, dir + "/sources.toml", 300);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto db = out + "/state.sqlite";
    const auto by_open = sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written' AND source = 'OPEN'");
    const auto passed_on = sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written' AND source = 'RENDER' AND "
                                       "json_extract(tried, '$[0][0]') = 'OPEN' AND json_extract(tried, '$[0][1]') LIKE '%no item over this tile%'");
    MESSAGE("OPEN " << by_open << ", passed on to RENDER for want of an item " << passed_on);
    CHECK(by_open > 20);
    CHECK(passed_on > 20);

    std::int64_t with_item = 0, without = 0;
    for (const auto& line : lines(read_file(out + "/meta.jsonl"))) {
        const auto j = json::parse(line);
        if (j["source"] == "OPEN") {
            ++with_item;
            CHECK(j["provenance"]["stac_item"] == "monaco-west");
            CHECK(j["provenance"]["licence"] == "CC0 test rendering");
            CHECK(j["time"] == json::array({2023, 4, 5, 10, 11}));
            CHECK(j["time_known"] == "minute");
            CHECK(j["filepath"].get<std::string>().find("_OPEN_23") != std::string::npos);
        } else {
            ++without;
            CHECK_FALSE(j.contains("provenance"));
        }
    }
    CHECK(with_item == by_open);
    CHECK(without > 0);
    // The pickles carry it too, as python reads them.
    const auto stem = sql_column(db, "SELECT part || ' ' || stem FROM jobs WHERE status = 'written' AND source = 'OPEN' LIMIT 1").at(0);
    const auto pickle = out + "/meta" + stem.substr(0, stem.find(' ')) + "/" + stem.substr(stem.find(' ') + 1) + ".pickle";
    const auto py = run("/usr/bin/python3 -c \"import pickle,sys; m = pickle.load(open(sys.argv[1], 'rb')); print(m['provenance']['stac_item'], "
                        "m['provenance']['datetime'])\" " + sh_quote(pickle));
    CHECK_MESSAGE(py.exit_code == 0, py.err);
    CHECK(py.out == "monaco-west 2023-04-05T10:11:00Z\n");

    // A rebuild that takes the images from this one (--reuse) keeps their records.
    const auto again = dir + "/again";
    const auto r2 = run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(again) +
                        " --sources " + sh_quote(dir + "/sources.toml") + " --bbox " + monaco_box + " --limit 300 -q --reuse " + sh_quote(out));
    REQUIRE_MESSAGE(r2.exit_code == 0, r2.err);
    CHECK(sql_int(again + "/state.sqlite", "SELECT count(*) FROM jobs WHERE source = 'OPEN' AND reused = 1") == by_open);
    CHECK(read_file(again + "/meta.jsonl") == read_file(out + "/meta.jsonl"));
}

TEST_CASE("stac: an item from before 1970 (a historical photograph) gives its images its year and time, not the source's year") {
    const auto dir = fresh_dir("stac-before-1970");
    monaco_cog(7.405, 7.44, dir + "/monaco.tif");
    const NginxServer nginx(dir, dir + "/nginx");
    auto old = monaco_item("monaco-1965", 7.405, 7.44, nginx.url("/monaco.tif"));
    old["properties"]["datetime"] = "1965-06-01T10:20:30.5Z"; // before 1970: a negative time, which read as "no time"
    write_file(dir + "/items.json", json::array({old}).dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"OLD\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"render\"\nassets = [\"visual\"]\ngsd = 0.5\nyear = 2020\n");
    const auto out = dir + "/out";
    const auto r = monaco_build(out, dir + "/sources.toml", 30);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto db = out + "/state.sqlite";
    const auto written = sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'");
    CHECK(written > 10);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written' AND year = 1965") == written); // before: the source's 2020
    std::int64_t lines_seen = 0;
    for (const auto& line : lines(read_file(out + "/meta.jsonl"))) {
        const auto j = json::parse(line);
        ++lines_seen;
        CHECK(j["time"] == json::array({1965, 6, 1, 10, 20})); // before: [2020, 1, 1, 0, 0]
        CHECK(j["time_known"] == "minute");
        CHECK(j["filepath"].get<std::string>().find("_OLD_65") != std::string::npos);
    }
    CHECK(lines_seen == written);
}

TEST_CASE("stac: the items a batch's searches hold are bounded (max_items_mb): beyond it their tiles fail saying so, instead of the memory growing with the server's answers") {
    const auto dir = fresh_dir("stac-items-bound");
    monaco_cog(7.405, 7.44, dir + "/monaco.tif");
    const NginxServer nginx(dir, dir + "/nginx");
    json items = json::array();
    for (int i = 0; i < 400; ++i) items.push_back(monaco_item("monaco-" + std::to_string(i), 7.405, 7.44, nginx.url("/monaco.tif")));
    write_file(dir + "/items.json", items.dump());
    // Every item's footprint traced with 2,000 points: ~9.6 MB held a page of 100 items (one
    // search held 0.8 GB with 3,000 points and 50 pages, and a batch makes a search a group).
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--detailed-footprints", "2000"});
    const auto sources = [&](const std::string& extra) {
        return "[[source]]\nalias = \"OPEN\"\nkind = \"stac\"\napi = \"" + server.url("") +
               "\"\ncollection = \"render\"\nassets = [\"visual\"]\ngsd = 0.5\n" + extra;
    };
    write_file(dir + "/bounded.toml", sources("max_items_mb = 16\n"));
    const auto bounded = dir + "/bounded";
    const auto r = monaco_build(bounded, dir + "/bounded.toml", 30);
    INFO(r.err);
    const auto jobs = sql_int(bounded + "/state.sqlite", "SELECT count(*) FROM jobs");
    CHECK(jobs > 10);
    CHECK(sql_int(bounded + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'failed' AND reason LIKE "
                                             "'%would hold more than 16 MB (max_items_mb; this search 200 items in 2 pages)%--batch'") == jobs);
    // The default (1024 MB) holds these 400 items: every image written from them.
    write_file(dir + "/default.toml", sources(""));
    const auto whole = dir + "/default";
    const auto r2 = monaco_build(whole, dir + "/default.toml", 30);
    REQUIRE_MESSAGE(r2.exit_code == 0, r2.err);
    CHECK(sql_int(whole + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'") == jobs);
    // A bound that is no number of megabytes is refused naming the key.
    write_file(dir + "/zero.toml", sources("max_items_mb = 0\n"));
    const auto bad = run(sh_quote(binary()) + " sources --sources " + sh_quote(dir + "/zero.toml"));
    CHECK(bad.exit_code != 0);
    CHECK(bad.err.find("max_items_mb must be a number of megabytes") != std::string::npos);
}

TEST_CASE("stac: an item whose COG answers 404 or 500 fails its tile with the reason; it is a fault, not 'no imagery'") {
    const auto dir = fresh_dir("stac-faults");
    REQUIRE(run("gdal_translate -q -of COG " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/broken.tif")).exit_code == 0);
    // West: a COG the server answers 500 for; east: a COG that is not there (404).
    write_file(dir + "/items.json", json::array({item("west-500", 9.4970, 9.5050, "2021-06-01T10:00:00Z", 5, "{base}/cog/broken.tif"),
                                                 item("east-404", 9.5050, 9.5135, "2021-06-01T10:00:00Z", 5, "{base}/cog/gone.tif")})
                                        .dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir,
                          "--fail-asset", "broken.tif:500"});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n");
    // GDAL retries a 500 with backoff (GDAL_HTTP_MAX_RETRY, set once per process): once here, to keep the test short.
    const std::string retries = CPLGetConfigOption("GDAL_HTTP_MAX_RETRY", "");
    CPLSetConfigOption("GDAL_HTTP_MAX_RETRY", "1");
    const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0), {});
    std::map<std::uint64_t, FetchedTile> out;
    std::mutex m;
    src->fetch(std::vector<TileJob>{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}, {2, make_tile_grid(9.5100, 53.5120, 200, 2)}},
               [&](FetchedTile&& t) {
                   std::lock_guard lock(m);
                   out[t.id] = std::move(t);
               });
    REQUIRE(out.size() == 2);
    for (const auto& [id, t] : out) {
        INFO(t.error);
        CHECK_FALSE(t.ok);
        CHECK_FALSE(t.no_imagery); // the store failed: no other source is asked for it
        CHECK(t.error.find(id == 1 ? "/cog/broken.tif" : "/cog/gone.tif") != std::string::npos);
    }
    CHECK(json::parse(http_get(server.url("/stats")))["cog_requests"].get<int>() > 0);
    CPLSetConfigOption("GDAL_HTTP_MAX_RETRY", retries.empty() ? nullptr : retries.c_str());
}

TEST_CASE("stac: an asset that is a VRT naming local files is not opened: a server's bytes read no file of this machine") {
    const auto dir = fresh_dir("stac-vrt-asset");
    // A VRT over the test raster by its absolute path, and one whose raw band is a local text file.
    REQUIRE(run("gdal_translate -q -of VRT " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/local.vrt")).exit_code == 0);
    auto vrt = read_file(dir + "/local.vrt");
    const auto a = vrt.find("<SourceFilename"), b = vrt.find("</SourceFilename>");
    REQUIRE((a != std::string::npos && b != std::string::npos));
    vrt.replace(a, b - a, "<SourceFilename relativeToVRT=\"0\">" + data("imagery/dop-rgb.tif"));
    write_file(dir + "/local.tif", vrt);
    write_file(dir + "/secret.txt", std::string(1 << 20, 'S'));
    write_file(dir + "/raw.tif", "<VRTDataset rasterXSize=\"1024\" rasterYSize=\"1024\"><SRS>EPSG:4326</SRS>"
                                 "<GeoTransform>9.4970, 0.0000162, 0, 53.5185, 0, -0.0000103</GeoTransform>"
                                 "<VRTRasterBand dataType=\"Byte\" band=\"1\" subClass=\"VRTRawRasterBand\"><ColorInterp>Gray</ColorInterp>"
                                 "<SourceFilename relativetoVRT=\"0\">" + dir + "/secret.txt</SourceFilename>"
                                 "<ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>1024</LineOffset></VRTRasterBand></VRTDataset>");
    write_file(dir + "/items.json", json::array({item("local-vrt", 9.4970, 9.5050, "2021-06-01T10:00:00Z", 5, "{base}/cog/local.tif"),
                                                 item("raw-vrt", 9.5050, 9.5135, "2021-06-01T10:00:00Z", 5, "{base}/cog/raw.tif")})
                                        .dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir});
    // The same VRT as a gdal source's remote raster: refused alike.
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n\n[[source]]\nalias = \"G\"\nkind = \"gdal\"\npath = \"/vsicurl/" +
                                          server.url("/cog/local.tif") + "\"\ngsd = 2\nyear = 2021\n");
    for (const std::string alias : {"S", "G"}) {
        INFO(alias);
        const auto sources = load_sources_file(dir + "/sources.toml");
        const auto& config = sources.at(alias == "S" ? 0 : 1);
        std::map<std::uint64_t, FetchedTile> out;
        std::mutex m;
        try {
            const auto src = open_image_source(config, {});
            src->fetch(std::vector<TileJob>{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}, {2, make_tile_grid(9.5100, 53.5120, 200, 2)}},
                       [&](FetchedTile&& t) {
                           std::lock_guard lock(m);
                           out[t.id] = std::move(t);
                       });
        } catch (const std::exception& e) { // the gdal source opens its raster up front
            CHECK(std::string(e.what()).find("from a server") != std::string::npos);
            continue;
        }
        REQUIRE(out.size() == 2);
        for (const auto& [id, t] : out) {
            INFO(t.error);
            CHECK_FALSE(t.ok);
            CHECK(t.error.find("from a server") != std::string::npos);
        }
    }
}

TEST_CASE("gdal: a server's VRT behind an archive or subfile prefix, or named by a local VRT, reads no local file") {
    const auto dir = fresh_dir("gdal-served-vrt");
    const std::string secret = "TOPSECRET-" + std::string(4000, 'S');
    write_file(dir + "/secret.txt", secret);
    // A VRT of one raw band over the secret, as a server would send it under a .tif name.
    std::filesystem::create_directories(dir + "/www");
    write_file(dir + "/www/tile.tif", "<VRTDataset rasterXSize=\"64\" rasterYSize=\"64\"><SRS>EPSG:4326</SRS>"
                                      "<GeoTransform>9.4970, 0.0002, 0, 53.5185, 0, -0.0001</GeoTransform>"
                                      "<VRTRasterBand dataType=\"Byte\" band=\"1\" subClass=\"VRTRawRasterBand\"><ColorInterp>Gray</ColorInterp>"
                                      "<SourceFilename relativetoVRT=\"0\">" + dir + "/secret.txt</SourceFilename>"
                                      "<ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>64</LineOffset></VRTRasterBand></VRTDataset>");
    REQUIRE(run("cd " + sh_quote(dir + "/www") + " && /usr/bin/python3 -c " +
                sh_quote("import gzip, tarfile, zipfile\n"
                         "zipfile.ZipFile('evil.zip', 'w').write('tile.tif')\n"
                         "with gzip.open('tile.tif.gz', 'wb') as g: g.write(open('tile.tif', 'rb').read())\n"
                         "t = tarfile.open('evil.tar', 'w'); t.add('tile.tif'); t.close()\n"))
                .exit_code == 0);
    const NginxServer nginx(dir + "/www", dir + "/nginx");
    // A local mosaic whose member is the server's "tile".
    write_file(dir + "/mosaic.vrt", "<VRTDataset rasterXSize=\"64\" rasterYSize=\"64\"><SRS>EPSG:4326</SRS>"
                                    "<GeoTransform>9.4970, 0.0002, 0, 53.5185, 0, -0.0001</GeoTransform>"
                                    "<VRTRasterBand dataType=\"Byte\" band=\"1\"><ColorInterp>Gray</ColorInterp><SimpleSource>"
                                    "<SourceFilename relativeToVRT=\"0\">/vsicurl/" + nginx.url("/tile.tif") + "</SourceFilename><SourceBand>1</SourceBand>"
                                    "</SimpleSource></VRTRasterBand></VRTDataset>");
    for (const auto& path : {"/vsizip//vsicurl/" + nginx.url("/evil.zip") + "/tile.tif", "/vsigzip//vsicurl/" + nginx.url("/tile.tif.gz"),
                             "/vsitar//vsicurl/" + nginx.url("/evil.tar") + "/tile.tif", "/vsisubfile/0_100000,/vsicurl/" + nginx.url("/tile.tif"),
                             dir + "/mosaic.vrt"}) {
        INFO(path);
        const auto out = dir + "/out.tif";
        std::filesystem::remove(out);
        const auto r = run(fetch_one_command() + " --raster " + sh_quote(path) + " --center 9.5035,53.5153 --side-m 300 --gsd 1 --resampling near -o " +
                           sh_quote(out));
        INFO(r.err);
        CHECK(r.exit_code != 0); // before: exit 0, the secret's bytes as the tile's pixels
        CHECK_FALSE(std::filesystem::exists(out));
        CHECK(lines(r.err).size() == 1);
    }
    // A URL's scheme in capitals is GDAL's HTTP driver's too: the same server's raster, told so.
    const auto upper = "HTTP://" + nginx.url("/tile.tif").substr(std::string("http://").size());
    const auto r = run(fetch_one_command() + " --raster " + sh_quote(upper) + " --center 9.5035,53.5153 --side-m 300 --gsd 1 -o " + sh_quote(dir + "/out.tif"));
    CHECK(r.exit_code != 0);
    CHECK_FALSE(std::filesystem::exists(dir + "/out.tif"));
    CHECK_MESSAGE(r.err.find("(from a server: GeoTIFF/COG") != std::string::npos, r.err);
}

TEST_CASE("stac: an asset href of another scheme than http(s) is not read: gopher:// would have sent its bytes to the port it names") {
    const auto dir = fresh_dir("stac-gopher-asset");
    // A listener where the href points: a connection to it would wait in its backlog.
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 16) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const auto port = std::to_string(ntohs(addr.sin_port));
    const std::vector<std::string> hrefs{"gopher://127.0.0.1:" + port + "/_SET%20pwned%201%0d%0aQUIT%0d%0a", "dict://127.0.0.1:" + port + "/x",
                                         "ftp://127.0.0.1:" + port + "/a.tif"};
    json items = json::array();
    for (std::size_t i = 0; i < hrefs.size(); ++i) items.push_back(item("scheme-" + std::to_string(i), 9.4970, 9.5135, "2021-06-0" + std::to_string(i + 1) + "T10:00:00Z", 5, hrefs[i]));
    write_file(dir + "/items.json", items.dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json"});
    for (std::size_t i = 0; i < hrefs.size(); ++i) {
        INFO(hrefs[i]);
        const auto day = "2021-06-0" + std::to_string(i + 1);
        write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                              "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\ndates = [\"" + day + "\", \"" + day + "\"]\n");
        const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0), {});
        std::map<std::uint64_t, FetchedTile> out;
        std::mutex m;
        src->fetch(std::vector<TileJob>{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}}, [&](FetchedTile&& t) {
            std::lock_guard lock(m);
            out[t.id] = std::move(t);
        });
        REQUIRE(out.size() == 1);
        INFO(out[1].error);
        CHECK_FALSE(out[1].ok);
        CHECK(out[1].error.find("not an http:// or https:// address") != std::string::npos);
    }
    CHECK(::accept(listener, nullptr, nullptr) < 0); // no connection came
    CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
    ::close(listener);
}

TEST_CASE("stac: an item geometry, properties or a next page's body nested 1,000,000 deep is no crash (the JSON writer and copies recursed once a level)") {
    std::string deep = "{\"type\": \"FeatureCollection\", \"features\": [{\"id\": \"deep\", \"bbox\": [9.49, 53.50, 9.52, 53.52], "
                       "\"assets\": {\"visual\": {\"href\": \"https://example.org/a.tif\"}}, \"properties\": {\"x\": ";
    const auto nest = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); }; // 2 MB: within a page's 16 MiB
    deep += nest(1000000) + "}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": " + nest(1000000) +
            "}}], \"links\": [{\"rel\": \"next\", \"method\": \"POST\", \"href\": \"https://example.org/s\", \"body\": {\"a\": " + nest(1000000) + "}}]}";
    const auto page = json::parse(deep);
    const auto items = stac_items(page, {"visual"}, {});
    REQUIRE(items.size() == 1); // kept: its bbox serves as its footprint
    CHECK(items[0].footprint == nullptr);
    CHECK_THROWS_WITH_AS(stac_next_page(page, json::object()), doctest::Contains("nested deeper than 64 levels"), std::runtime_error);
}

TEST_CASE("stac: a search with more pages than the cap fails its tiles saying so, instead of choosing among the first pages' items") {
    const auto dir = fresh_dir("stac-page-cap");
    json items = json::array();
    for (int i = 0; i < 60; ++i) // oldest first, one a page: the newest is on the last page
        items.push_back(item("day" + std::to_string(1000 + i), 9.4970, 9.5135, "2021-01-01T00:00:00Z", 5, "{base}/cog/none.tif"));
    write_file(dir + "/items.json", items.dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir,
                          "--default-limit", "1", "--max-limit", "1", "--without", "sortby"});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n");
    const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0), {});
    std::vector<FetchedTile> out;
    src->fetch(std::vector<TileJob>{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}}, [&](FetchedTile&& t) { out.push_back(std::move(t)); });
    REQUIRE(out.size() == 1);
    INFO(out[0].error);
    CHECK_FALSE(out[0].ok);
    CHECK_FALSE(out[0].no_imagery);
    CHECK(out[0].error.find("more than 50 pages of items for one search") != std::string::npos);
}

namespace {

// A STAC API serving the west and east halves of the test raster from its own /cog/ (hrefs
// {base}/cog/NAME), one item a page, started with `options`; the source CLEAR (max_cloud 50)
// searches it at the API's URL + `prefix`.
struct OwnCogStac {
    std::string dir;
    std::unique_ptr<ServerProcess> server;
    OwnCogStac(const std::string& name, const std::vector<std::string>& options, const std::string& prefix = "") {
        dir = fresh_dir(name);
        const auto raster = data("imagery/dop-rgb.tif");
        REQUIRE(run("gdal_translate -q -of COG -projwin_srs EPSG:4326 -projwin 9.4970 53.5185 9.5050 53.5080 " + sh_quote(raster) + " " + sh_quote(dir + "/west.tif")).exit_code == 0);
        REQUIRE(run("gdal_translate -q -of COG -projwin_srs EPSG:4326 -projwin 9.5050 53.5185 9.5135 53.5080 " + sh_quote(raster) + " " + sh_quote(dir + "/east.tif")).exit_code == 0);
        write_file(dir + "/items.json", json::array({item("west-2021", 9.4970, 9.5050, "2021-06-01T10:00:00Z", 5, "{base}/cog/west.tif"),
                                                     item("east-2020", 9.5050, 9.5135, "2020-05-01T09:30:00Z", 10, "{base}/cog/east.tif"),
                                                     item("west-2019", 9.4970, 9.5050, "2019-06-01T10:00:00Z", 20, "{base}/cog/west.tif")})
                                             .dump());
        std::vector<std::string> argv{"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir,
                                      "--default-limit", "1", "--max-limit", "1"};
        argv.insert(argv.end(), options.begin(), options.end());
        server = std::make_unique<ServerProcess>(argv);
        write_file(dir + "/sources.toml", "[[source]]\nalias = \"CLEAR\"\nkind = \"stac\"\napi = \"" + server->url(prefix) +
                                              "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\nmax_cloud = 50\n");
    }
    // The tiles over the west half (two items there, the clearer one from 2021) and the east.
    std::map<std::uint64_t, FetchedTile> fetch() const {
        const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0), {});
        std::map<std::uint64_t, FetchedTile> out;
        std::mutex m;
        src->fetch(std::vector<TileJob>{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}, {3, make_tile_grid(9.5100, 53.5120, 200, 2)}}, [&](FetchedTile&& t) {
            std::lock_guard lock(m);
            out[t.id] = std::move(t);
        });
        return out;
    }
    json stats() const { return json::parse(http_get(server->url("/stats"))); }
    int requests(const std::string& kind) const {
        const auto st = stats();
        return st["requests"].value(kind, 0);
    }
};

} // namespace

TEST_CASE("stac: an API moved with a 301 is searched with its POST body: libcurl's default resent it as a GET without bbox, dates or collection (red-team round 34)") {
    OwnCogStac f("stac-moved", {"--moved", "/old"}, "/old");
    const auto tiles = f.fetch();
    for (const std::uint64_t id : {1, 3}) {
        INFO("tile " << id << ": " << tiles.at(id).error);
        CHECK(tiles.at(id).ok);
    }
    CHECK(json::parse(tiles.at(1).provenance)["stac_item"] == "west-2021");
    CHECK(f.requests("moved") > 0);      // the search went through the redirect,
    CHECK(f.requests("search_post") > 0); // arrived as a POST,
    CHECK(f.requests("search_get") == 0); // never as a bare GET
    const auto st = f.stats(); // held: a range-for over a temporary's member reads freed memory
    for (const auto& s : st["searches"]) CHECK(s["params"].contains("collections")); // and with its terms
}

TEST_CASE("stac: tiles across the antimeridian and west of it in one search cell are searched apart; the crossing tile finds its items (red-team round 34)") {
    const auto dir = fresh_dir("stac-antimeridian");
    const auto raster = data("imagery/dop-rgb.tif");
    for (const auto& [name, box] : std::vector<std::pair<std::string, std::string>>{
             {"west", "179.99 -16.49 180.0 -16.51"}, {"east", "-180.0 -16.49 -179.99 -16.51"}, {"bc", "179.96 -16.49 179.98 -16.51"}})
        REQUIRE(run("gdal_translate -q -of COG -a_srs EPSG:4326 -a_ullr " + box + " " + sh_quote(raster) + " " + sh_quote(dir + "/" + name + ".tif")).exit_code == 0);
    auto at = [](const std::string& id, double west, double east) {
        json it = item(id, west, east, "2021-06-01T10:00:00Z", 5, "{base}/cog/" + id + ".tif");
        it["bbox"] = {west, -16.51, east, -16.49};
        it["geometry"]["coordinates"] = {{{west, -16.51}, {east, -16.51}, {east, -16.49}, {west, -16.49}, {west, -16.51}}};
        return it;
    };
    write_file(dir + "/items.json", json::array({at("west", 179.99, 180.0), at("east", -180.0, -179.99), at("bc", 179.96, 179.98)}).dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"AM\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 0.3\n");
    const auto crossing = make_tile_grid(179.99999, -16.50025, 60, 0.3);
    REQUIRE(crossing.box.crosses_antimeridian());
    const std::vector<TileJob> tiles{{1, crossing}, {2, make_tile_grid(179.9715, -16.50025, 60, 0.3)}}; // both in the cell 179.95..180
    const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0), {});
    std::map<std::uint64_t, FetchedTile> out;
    src->fetch(tiles, [&](FetchedTile&& t) { out[t.id] = std::move(t); });
    for (const std::uint64_t id : {1, 2}) {
        INFO("tile " << id << ": " << out.at(id).error);
        CHECK_FALSE(out.at(id).no_imagery);
        CHECK(out.at(id).ok);
    }
    CHECK(out.at(1).image.valid_fraction() > 0.9); // both halves, west and east of 180°
    const auto st = json::parse(http_get(server.url("/stats")));
    REQUIRE(st["searches"].size() == 2);
    std::set<bool> crosses;
    for (const auto& s : st["searches"]) crosses.insert(s["params"]["bbox"][0].get<double>() > s["params"]["bbox"][2].get<double>());
    CHECK(crosses == std::set<bool>{false, true});
}

TEST_CASE("stac: `next` links and asset hrefs relative to their page and item are resolved, as STAC allows (red-team round 34)") {
    OwnCogStac f("stac-relative", {"--relative-links"});
    const auto tiles = f.fetch();
    for (const std::uint64_t id : {1, 3}) {
        INFO("tile " << id << ": " << tiles.at(id).error);
        CHECK(tiles.at(id).ok);
    }
    CHECK(json::parse(tiles.at(1).provenance)["stac_item"] == "west-2021"); // the best of the pages: every page read
    const auto st = f.stats();
    std::size_t later_pages = 0;
    for (const auto& s : st["searches"]) later_pages += s["next_page"].get<bool>();
    CHECK(later_pages > 0);
    CHECK(st["cog_requests"].get<int>() > 0);
    CHECK(json::parse(tiles.at(1).provenance)["assets"][0].get<std::string>().ends_with("/cog/west.tif"));
}

TEST_CASE("stac: a server whose `next` link repeats a page fails its tiles saying it loops, after one repeat, not fifty (red-team round 34)") {
    OwnCogStac f("stac-stuck-next", {"--stuck-next"});
    const auto tiles = f.fetch();
    for (const std::uint64_t id : {1, 3}) {
        INFO("tile " << id << ": " << tiles.at(id).error);
        CHECK_FALSE(tiles.at(id).ok);
        CHECK_FALSE(tiles.at(id).no_imagery);
        CHECK(tiles.at(id).error.find("asks again for a page it already sent") != std::string::npos);
        CHECK(tiles.at(id).error.find("pages in a loop") != std::string::npos);
    }
    CHECK(f.requests("search_post") <= 6); // two searches, a few pages each
}

TEST_CASE("stac: a last page without `next` in a search the server says matched more is an answer cut short, not the whole choice (red-team round 34)") {
    OwnCogStac f("stac-drop-next", {"--drop-next"});
    const auto tiles = f.fetch(); // the two tiles share a search, of the three items; one was sent
    for (const std::uint64_t id : {1, 3}) {
        INFO("tile " << id << ": " << tiles.at(id).error);
        CHECK_FALSE(tiles.at(id).ok);
        CHECK_FALSE(tiles.at(id).no_imagery);
        CHECK(tiles.at(id).error.find("the server says 3 items match but sent 1 and no `next` link to the rest") != std::string::npos);
    }
    CHECK(f.stats()["searches"].size() == 1);
}

TEST_CASE("stac: an API whose landing page offers GET search only is searched by GET with the same terms (red-team round 34)") {
    OwnCogStac f("stac-get-only", {"--get-only"});
    const auto tiles = f.fetch();
    for (const std::uint64_t id : {1, 3}) {
        INFO("tile " << id << ": " << tiles.at(id).error);
        CHECK(tiles.at(id).ok);
    }
    CHECK(json::parse(tiles.at(1).provenance)["stac_item"] == "west-2021");
    CHECK(f.requests("search_post_refused") == 0);
    CHECK(f.requests("search_get") > 2); // first pages and next pages
    const auto st = f.stats();
    CHECK(st["search_400"].empty());
    for (const auto& s : st["searches"]) {
        CHECK(s["method"] == "GET");
        if (s["next_page"].get<bool>()) continue;
        CHECK(s["params"]["collections"] == json::array({"dop"}));
        CHECK(s["params"]["bbox"].size() == 4);
        CHECK(s["params"]["query"]["eo:cloud_cover"]["lt"] == 50);
    }
}

TEST_CASE("stac, signed: a token whose msft:expiry is already past by this machine's clock is kept a minute, not fetched again for every read (red-team round 34)") {
    const auto dir = fresh_dir("stac-signed-skew");
    REQUIRE(run("gdal_translate -q -of COG " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/dop.tif")).exit_code == 0);
    write_file(dir + "/items.json", json::array({item("whole", 9.4970, 9.5135, "2021-06-01T10:00:00Z", 5, "{base}/cog/dop.tif")}).dump());
    // Tokens good for an hour whose msft:expiry says ten minutes ago (a clock ahead of the server's).
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir, "--sign",
                          "--advertise-expiry-s", "-600"});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"PC\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\nsign = \"planetary-computer\"\ntoken_url = \"" +
                                          server.url("/api/sas/v1/token/") + "\"\nsign_hosts = [\"127.0.0.1\"]\n");
    const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0));
    std::vector<TileJob> tiles;
    for (int i = 0; i < 8; ++i) tiles.push_back({static_cast<std::uint64_t>(i + 1), make_tile_grid(9.4990 + 0.0015 * i, 53.5130, 100, 2)});
    std::mutex m;
    int ok = 0;
    src->fetch(tiles, [&](FetchedTile&& t) {
        std::lock_guard lock(m);
        ok += t.ok;
    });
    CHECK(ok == 8);
    CHECK(json::parse(http_get(server.url("/stats")))["tokens_issued"] == 1);
}

TEST_CASE("stac: the GET form of a search, relative URLs, lower-case RFC 3339 times, a landing page's search methods (red-team round 34)") {
    const json body = {{"collections", {"dop"}}, {"bbox", {9.5, 53.5, 9.6, 53.6}}, {"limit", 100}, {"datetime", "2020-01-01T00:00:00Z/.."},
                       {"query", {{"eo:cloud_cover", {{"lt", 20}}}}},
                       {"sortby", {{{"field", "properties.eo:cloud_cover"}, {"direction", "asc"}}, {{"field", "properties.datetime"}, {"direction", "desc"}}}}};
    CHECK(stac_search_query(body) ==
          "bbox=9.5%2C53.5%2C9.6%2C53.6&collections=dop&datetime=2020-01-01T00%3A00%3A00Z%2F..&limit=100"
          "&query=%7B%22eo%3Acloud_cover%22%3A%7B%22lt%22%3A20%7D%7D&sortby=%2Bproperties.eo%3Acloud_cover%2C-properties.datetime");
    CHECK(resolve_url("http://h:8/api/search?token=a", "search?token=b") == "http://h:8/api/search?token=b");
    CHECK(resolve_url("http://h/collections/c/items/i", "../../../cog/a.tif") == "http://h/cog/a.tif");
    CHECK(resolve_url("http://h/api/", "/x") == "http://h/x");
    CHECK(resolve_url("http://h/api/", "https://other.org/a%20b?sig=x+y") == "https://other.org/a%20b?sig=x+y"); // absolute: byte for byte
    CHECK_FALSE(resolve_url("", "search").has_value());
    CHECK_FALSE(resolve_url("http://h/api/search?q", "").has_value()); // an empty href names nothing
    CHECK_FALSE(resolve_url("http://h/api/search?q#a", "#x").has_value()); // the page itself
    CHECK(resolve_url("http://h/api/search?q", "?page=2") == "http://h/api/search?page=2");
    CHECK(*parse_iso_time_ms("2021-06-01t10:00:00z") == *parse_iso_time_ms("2021-06-01T10:00:00Z"));
    CHECK(*parse_iso_time_ms("2021-06-01t10:00:00+02:00") == *parse_iso_time_ms("2021-06-01T08:00:00Z"));
    // A leap second is its minute's last millisecond, a fraction cut, not rounded: both stay in
    // 2016 (red-team round 39: 2017-01-01, the stem's year 17, and `dates` ending 2016-12-31 dropped them).
    const auto last_second = *parse_iso_time_ms("2016-12-31T23:59:59Z");
    CHECK(*parse_iso_time_ms("2016-12-31T23:59:60Z") == last_second + 999);
    CHECK(*parse_iso_time_ms("2016-12-31T23:59:59.9996Z") == last_second + 999);
    CHECK(*parse_iso_time_ms("2016-12-31T23:59:59.5Z") == last_second + 500);
    CHECK(*parse_iso_time_ms("2016-12-31T23:59:59.001Z") == last_second + 1); // 59.001 is 59000.99... ms in binary
    CHECK(*parse_iso_time_ms("2016-12-31T23:59:59.998Z") == last_second + 998);
    CHECK(*parse_iso_time_ms("2016-12-31T23:59:05.007Z") == last_second - 54000 + 7);
    // RFC 3339's space for the T keeps the time and the offset (they had been dropped: 2016-12-31T00:00Z).
    CHECK(*parse_iso_time_ms("2016-12-31 23:30:00-05:00") == *parse_iso_time_ms("2017-01-01T04:30:00Z"));
    CHECK_FALSE(parse_iso_time_ms("2016-12-31T23:59:75Z"));
    const auto link = [](const char* method) {
        json l = {{"rel", "search"}, {"href", "http://h/search"}};
        if (method) l["method"] = method;
        return l;
    };
    CHECK_FALSE(stac_abilities(json{{"links", {link("GET")}}}).post);
    CHECK_FALSE(stac_abilities(json{{"links", {link(nullptr)}}}).post); // GET is the spec's default
    CHECK(stac_abilities(json{{"links", {link("GET"), link("POST")}}}).post);
    CHECK(stac_abilities(json{{"links", json::array()}}).post); // not told: POST, as before
    CHECK(stac_abilities(json()).post);
    // An item's relative asset is read against its self link, else the page's URL.
    json page = {{"type", "FeatureCollection"}, {"features", {item("a", 9.5, 9.6, "2021-01-01T00:00:00Z", 1, "../../../cog/a.tif")}}};
    page["features"][0]["links"] = {{{"rel", "self"}, {"href", "http://h/collections/dop/items/a"}}};
    CHECK(stac_items(page, {"visual"}, {}, "http://h/search").at(0).hrefs.at(0) == "http://h/cog/a.tif");
    page["features"][0]["links"] = json::array();
    CHECK(stac_items(page, {"visual"}, {}, "http://h/api/search").at(0).hrefs.at(0) == "http://h/cog/a.tif");
    CHECK(stac_matched(json{{"numberMatched", 7}}) == 7u);
    CHECK(stac_matched(json{{"context", {{"matched", 3}}}}) == 3u);
    CHECK_FALSE(stac_matched(json{{"numberMatched", "7"}}).has_value());
}

TEST_CASE("stac: a tile's time and item are those of the item its pixels come from, not of a first item whose footprint claims it but whose COG misses it") {
    const auto dir = fresh_dir("stac-provenance");
    const auto raster = data("imagery/dop-rgb.tif");
    REQUIRE(run("gdal_translate -q -of COG -projwin_srs EPSG:4326 -projwin 9.4970 53.5185 9.5050 53.5080 " + sh_quote(raster) + " " + sh_quote(dir + "/west.tif")).exit_code == 0);
    REQUIRE(run("gdal_translate -q -of COG " + sh_quote(raster) + " " + sh_quote(dir + "/whole.tif")).exit_code == 0);
    // Newest first: the 2024 item claims the whole raster, but its COG holds only the west half.
    write_file(dir + "/items.json", json::array({item("claims-all-2024", 9.4970, 9.5135, "2024-06-01T10:00:00Z", 5, "{base}/cog/west.tif"),
                                                 item("whole-2019", 9.4970, 9.5135, "2019-06-01T10:00:00Z", 5, "{base}/cog/whole.tif")})
                                        .dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n");
    const auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0), {});
    std::map<std::uint64_t, FetchedTile> out;
    std::mutex m;
    // West: the 2024 item's pixels; east (beyond 9.5050): the 2019 item's only.
    src->fetch(std::vector<TileJob>{{1, make_tile_grid(9.5000, 53.5130, 100, 2)}, {2, make_tile_grid(9.5110, 53.5130, 100, 2)}}, [&](FetchedTile&& t) {
        std::lock_guard lock(m);
        out[t.id] = std::move(t);
    });
    REQUIRE(out.size() == 2);
    REQUIRE(out[1].ok);
    REQUIRE(out[2].ok);
    CHECK(out[1].time_ms == *parse_iso_time_ms("2024-06-01T10:00:00Z"));
    CHECK(out[1].provenance.find("claims-all-2024") != std::string::npos);
    CHECK(out[2].time_ms == *parse_iso_time_ms("2019-06-01T10:00:00Z"));
    CHECK(out[2].provenance.find("whole-2019") != std::string::npos);
    CHECK(out[2].provenance.find("claims-all-2024") == std::string::npos);
}

TEST_CASE("stac: COG reads keep to the source's max_in_flight (more at once than cores: they wait on the network) and requests_per_second") {
    const auto dir = fresh_dir("stac-limits");
    // 24 items side by side, each a tiny COG of its own (one cell of dop-rgb.tif): every
    // tile reads a file no other tile has read, so none is served from GDAL's cache.
    json items = json::array();
    std::vector<TileJob> tiles;
    for (int i = 0; i < 24; ++i) {
        const double w = 9.4980 + 0.0012 * (i % 12), s = 53.5095 + 0.003 * (i / 12), e = w + 0.0012, n = s + 0.003;
        const auto name = std::string("c").append(std::to_string(i)).append(".tif"); // (GCC 12's -Wrestrict misfires on "c" + to_string)
        REQUIRE(run("gdal_translate -q -of COG -projwin_srs EPSG:4326 -projwin " + std::to_string(w) + " " + std::to_string(n) + " " +
                    std::to_string(e) + " " + std::to_string(s) + " " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/" + name))
                    .exit_code == 0);
        auto it = item("cell" + std::to_string(i), w, e, "2021-06-01T10:00:00Z", 5, "{base}/cog/" + name);
        it["bbox"] = {w, s, e, n};
        it["geometry"]["coordinates"] = {{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}};
        items.push_back(it);
        tiles.push_back({static_cast<std::uint64_t>(i + 1), make_tile_grid((w + e) / 2, (s + n) / 2, 16, 2)});
    }
    write_file(dir + "/items.json", items.dump());
    auto fetch_all = [&](const std::string& limits, const std::vector<std::string>& server_options) {
        std::vector<std::string> argv{"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--cog-dir", dir};
        argv.insert(argv.end(), server_options.begin(), server_options.end());
        ServerProcess server(argv);
        write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                              "\"\ncollection = \"dop\"\nassets = [\"visual\"]\ngsd = 2\n" + limits);
        auto src = open_image_source(load_sources_file(dir + "/sources.toml").at(0));
        std::mutex m;
        int ok = 0;
        const auto start = std::chrono::steady_clock::now();
        src->fetch(tiles, [&](FetchedTile&& t) {
            std::lock_guard lock(m);
            INFO(t.error);
            CHECK(t.ok);
            ok += t.ok;
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CHECK(ok == 24);
        return std::pair{seconds, json::parse(http_get(server.url("/stats")))};
    };
    // 6 in flight, 200 ms an answer: 6 reads wait at once on 2 cores, never 7.
    const auto [slow_s, slow] = fetch_all("max_in_flight = 6\n", {"--latency-ms", "200"});
    MESSAGE("max_in_flight 6: at most " << slow["max_active"] << " requests at once, " << slow_s << " s");
    CHECK(slow["max_active"].get<int>() >= 4);
    CHECK(slow["max_active"].get<int>() <= 6);
    // 8 reads a second (a burst of 4 first): 24 reads take 2.5 s or more.
    const auto [paced_s, paced] = fetch_all("requests_per_second = 8\n", {});
    MESSAGE("requests_per_second 8: " << paced["requests"].value("cog", 0) << " COG GETs in " << paced_s << " s");
    CHECK(paced_s >= 2.4);
}

TEST_CASE("stac shaped as swisstopo's SWISSIMAGE: per-item asset keys picked by a pattern, an API without sort or query, merge paging") {
    const auto dir = fresh_dir("stac-swiss");
    const auto raster = data("imagery/dop-rgb.tif");
    // The 10 cm asset (here the raster itself) and the 2 m one (its colours inverted, so a wrong pick shows).
    REQUIRE(run("gdal_translate -q -of COG " + sh_quote(raster) + " " + sh_quote(dir + "/swissimage-dop10_2021_2594-1138_0.1_2056.tif")).exit_code == 0);
    REQUIRE(run("gdal_translate -q -of COG -scale 0 255 255 0 " + sh_quote(raster) + " " + sh_quote(dir + "/swissimage-dop10_2021_2594-1138_2_2056.tif"))
                .exit_code == 0);
    const NginxServer nginx(dir, dir + "/nginx");
    auto it = item("swissimage-dop10_2021_2594-1138", 9.4970, 9.5135, "2021-08-01T00:00:00Z", 0, "");
    it["properties"].erase("eo:cloud_cover");
    it["assets"] = json::object();
    for (const char* gsd : {"2", "0.1"}) {
        const auto file = std::string("swissimage-dop10_2021_2594-1138_") + gsd + "_2056.tif";
        it["assets"][file] = {{"href", nginx.url("/" + file)}, {"type", "image/tiff; application=geotiff; profile=cloud-optimized"}, {"gsd", std::stod(gsd)}};
    }
    write_file(dir + "/items.json", json::array({it}).dump());
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--without", "sortby",
                          "--without", "query", "--without", "filter", "--next-style", "merge"});
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"SWISS\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"dop\"\nassets = [\"*_0.1_2056.tif\"]\ngsd = 2\n\n[[source]]\nalias = \"REF\"\nkind = \"gdal\"\npath = \"" +
                                          raster + "\"\ngsd = 2\nyear = 2021\n");
    const auto sources = load_sources_file(dir + "/sources.toml");
    const std::vector<TileJob> tiles{{1, make_tile_grid(9.5000, 53.5130, 200, 2)}, {2, make_tile_grid(9.5100, 53.5120, 200, 2)}};
    std::map<std::string, std::map<std::uint64_t, FetchedTile>> got;
    for (const auto& s : sources) {
        std::mutex m;
        open_image_source(s)->fetch(tiles, [&](FetchedTile&& t) {
            std::lock_guard lock(m);
            got[s.alias][t.id] = std::move(t);
        });
    }
    for (const std::uint64_t id : {1, 2}) {
        const auto& t = got["SWISS"].at(id);
        INFO(t.error);
        REQUIRE(t.ok);
        CHECK(mean_abs_rgb_diff(t.image, got["REF"].at(id).image) < 0.01); // the 10 cm asset, not the 2 m one
        CHECK(json::parse(t.provenance)["assets"][0].get<std::string>().ends_with("_0.1_2056.tif"));
    }
    CHECK(nginx.requests("GET", 206) > 0);
    const auto st = json::parse(http_get(server.url("/stats")));
    CHECK(st["search_400"].empty()); // neither sortby nor query sent to an API without them
    const auto valid = check_stac_schemas(sh_quote(server.url("/")));
    CHECK_MESSAGE(valid.exit_code == 0, valid.out << valid.err); // items shaped as swisstopo's are STAC too
}

TEST_CASE("stac in a build, signed as Planetary Computer's, the COGs behind nginx: tokens die mid-build, are renewed, and every image is written") {
    const auto dir = fresh_dir("stac-signed-build");
    monaco_cog(7.405, 7.44, dir + "/monaco.tif");
    // nginx serves /cog/ only when the STAC server's token check (auth_request) says yes: its
    // port must be in the items, and the STAC server's in nginx's config.
    const int nginx_port = free_loopback_port();
    write_file(dir + "/items.json",
               json::array({monaco_item("monaco", 7.405, 7.44, "http://127.0.0.1:" + std::to_string(nginx_port) + "/cog/monaco.tif")}).dump());
    // Tokens say they live an hour and die after 1.5 s (revoked keys): only 403s tell. Every
    // answer, and so every COG request (nginx asks the server first), takes 100 ms, so that
    // the reads, 2 at a time, outlive a token.
    ServerProcess server({"/usr/bin/python3", source_dir() + "/tests/stac_api_server.py", "--items", dir + "/items.json", "--sign",
                          "--token-valid-s", "1.5", "--latency-ms", "100"});
    const NginxServer nginx(dir, dir + "/nginx",
                            "    location /cog/ { auth_request /_sas; alias " + dir + "/; }\n"
                            "    location = /_sas { internal; proxy_pass " + server.url("/api/sas/check") + "; proxy_pass_request_body off;\n"
                            "      proxy_set_header Content-Length \"\"; proxy_set_header X-Original-URI $request_uri; }\n",
                            nginx_port);
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"PC\"\nkind = \"stac\"\napi = \"" + server.url("") +
                                          "\"\ncollection = \"render\"\nassets = [\"visual\"]\ngsd = 0.5\nsign = \"planetary-computer\"\ntoken_url = \"" +
                                          server.url("/api/sas/v1/token/") + "\"\nsign_hosts = [\"127.0.0.1\"]\nmax_in_flight = 2\n");
    const auto out = dir + "/out";
    const auto r = monaco_build(out, dir + "/sources.toml", 200);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto db = out + "/state.sqlite";
    const auto written = sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'");
    const auto st = json::parse(http_get(server.url("/stats")));
    MESSAGE(written << " written; " << st["tokens_issued"] << " tokens; nginx: " << nginx.requests("GET", 206) << " ranges, "
                    << nginx.requests("", 403) << " refused");
    CHECK(written > 100);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'failed' AND reason LIKE '%monaco.tif%'") == 0); // no read lost to a dead token
    CHECK(nginx.requests("", 403) > 0);               // tokens died mid-build ...
    CHECK(st["tokens_issued"].get<int>() >= 2);       // ... and were renewed
    CHECK(nginx.requests("GET", 206) > 0);            // the pixels came from nginx, in ranges
    CHECK(nginx.requests("GET", 200) == 0);
    // No token in any output: not one of the signatures the server issued.
    for (const auto& f : {out + "/meta.jsonl", out + "/report.json", out + "/report.html", out + "/SkyScript_train_unfiltered.csv"})
        for (const auto& [sig, use] : st["token_use"].items()) CHECK(read_file(f).find(sig) == std::string::npos);
    CHECK(st["token_use"].size() >= 2);
}

TEST_CASE("stac: a fetch whose PROJ cannot read its database stops, its jobs left planned, not failed for good as 'bad warp options'") {
    const auto dir = fresh_dir("stac-proj-db");
    const OneItemStac stac(dir, "monaco", 7.405, 7.44);
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"S\"\nkind = \"stac\"\napi = \"" + stac.api.url("") +
                                          "\"\ncollection = \"render\"\nassets = [\"visual\"]\ngsd = 0.5\n");
    const auto out = dir + "/out", b = sh_quote(binary());
    REQUIRE(run(b + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) + " --bbox " + monaco_box + " -q").exit_code == 0);
    REQUIRE(run(b + " plan " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml") + " --limit 20 -q").exit_code == 0);
    const auto jobs = sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs");
    REQUIRE(jobs > 5);
    std::filesystem::create_directories(dir + "/no-proj");
    const auto blind = run("PROJ_DATA=" + sh_quote(dir + "/no-proj") + " PROJ_LIB=" + sh_quote(dir + "/no-proj") + " timeout 300 " + b + " fetch " + sh_quote(out) + " -q");
    INFO(blind.err);
    CHECK(blind.exit_code != 0);
    CHECK(blind.err.find("PROJ") != std::string::npos);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'failed'") == 0); // before: every job, "bad warp options"
    const auto rerun = run("timeout 300 " + b + " fetch " + sh_quote(out) + " -q");
    CHECK_MESSAGE(rerun.exit_code == 0, rerun.err);
    CHECK(sql_int(out + "/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'fetched'") == jobs);
}
