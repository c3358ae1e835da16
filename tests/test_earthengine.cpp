// The earthengine source against a loopback fake (tests/earthengine_fake_server.py)
// that verifies the JWT's RS256 signature with the test key's public half, the bearer
// token and the request bodies, and answers pixels cut from a real raster. The keys are
// made by the test with openssl; none is committed.

#include "imagery/sources/earthengine/earthengine_kind.hpp"
#include "imagery/sources/earthengine/earthengine_source.hpp"
#include "imagery/sources/earthengine/service_account.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <gdal_priv.h>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

using namespace skyscript::imagery;
using namespace skyscript::test;
using json = nlohmann::json;

namespace {

// The test's key pair and a second, wrong key: made once per run of the suite (RSA key
// generation is the slow part of a fixture).
// The acquisition time the fake gives the image over a footprint (see
// earthengine_fake_server.py): 2021-07-01 plus round(west * 1e6) mod 86400 seconds.
long long fake_time_ms(const LonLatBox& box) {
    const long long s = static_cast<long long>(std::floor(box.west * 1e6 + 0.5)) % 86400;
    return 1625097600000LL + (s < 0 ? s + 86400 : s) * 1000;
}

// `n` tiles of 100x100 px (200 m at 2 m) in a row over the fake's raster, 0.00005 degrees
// (about 3 m) apart, so each has its own west edge and time; ids from 100.
std::vector<std::pair<std::uint64_t, TileGrid>> row_of_tiles(int n, double lon = 9.502) {
    std::vector<std::pair<std::uint64_t, TileGrid>> grids;
    for (int i = 0; i < n; ++i) grids.emplace_back(100 + i, make_tile_grid(lon + 0.00005 * i, 53.513, 200, 2));
    return grids;
}

const std::string& key_dir() {
    static const std::string dir = [] {
        const auto d = fresh_dir("earthengine_keys");
        REQUIRE(run("openssl genrsa -out " + sh_quote(d + "/key.pem") + " 2048").exit_code == 0);
        REQUIRE(run("openssl rsa -in " + sh_quote(d + "/key.pem") + " -pubout -out " + sh_quote(d + "/pub.pem")).exit_code == 0);
        REQUIRE(run("openssl genrsa -out " + sh_quote(d + "/other.pem") + " 2048").exit_code == 0);
        return d;
    }();
    return dir;
}

struct Fixture {
    std::string dir, key_json, wrong_key_json, sources;
    std::unique_ptr<ServerProcess> server;

    // `fake_options`: more arguments of the fake (short-lived tokens, latency, ...).
    explicit Fixture(const std::vector<std::string>& fake_options = {}) {
        dir = fresh_dir("earthengine");
        std::vector<std::string> argv{"python3", source_dir() + "/tests/earthengine_fake_server.py", "--public-key", key_dir() + "/pub.pem",
                                      "--client-email", "builder@sky-test.iam.gserviceaccount.com", "--raster", data("imagery/dop-rgb.tif")};
        argv.insert(argv.end(), fake_options.begin(), fake_options.end());
        server = std::make_unique<ServerProcess>(argv);
        key_json = write_key("key.json", "key.pem");
        wrong_key_json = write_key("wrong.json", "other.pem");
        sources = dir + "/sources.toml";
        std::string toml;
        for (const auto& [alias, project, collection] : std::vector<std::tuple<std::string, std::string, std::string>>{
                 {"S2T", "sky-test", "COPERNICUS/S2_SR_HARMONIZED"}, {"FORB", "forbidden", "COPERNICUS/S2_SR_HARMONIZED"}, {"ECHO", "echo", "COPERNICUS/S2_SR_HARMONIZED"},
                 {"BUSY", "busy", "COPERNICUS/S2_SR_HARMONIZED"}, {"EMPTY", "sky-test", "EMPTY/COLLECTION"},
                 {"SLOW", "sky-test", "COPERNICUS/S2_SR_HARMONIZED"}, {"CAP5", "sky-test", "COPERNICUS/S2_SR_HARMONIZED"},
                 {"OLD", "sky-test", "COPERNICUS/S2_SR_HARMONIZED"}})
            toml += "[[source]]\nalias = \"" + alias + "\"\nkind = \"earthengine\"\ncollection = \"" + collection + "\"\nproject = \"" +
                    project + "\"\nendpoint = \"" + server->url("") + "\"\ngsd = 2\nbands = [\"B4\", \"B3\", \"B2\"]\nstretch = [0, 255]\n" +
                    (alias == "OLD" ? "dates = [\"2019-01-01\", \"2020-12-31\"]\n" : "dates = [\"2019-01-01\", \"\"]\n") + "cloud_property = \"CLOUDY_PIXEL_PERCENTAGE\"\n" +
                    (alias == "SLOW" ? "requests_per_second = 8\n" : alias == "CAP5" ? "max_in_flight = 5\n" : "") + "\n";
        write_file(sources, toml);
    }
    std::string write_key(const std::string& name, const std::string& pem) {
        const json key = {{"type", "service_account"}, {"project_id", "sky-test"}, {"private_key_id", "0123"},
                          {"private_key", read_file(key_dir() + "/" + pem)}, {"client_email", "builder@sky-test.iam.gserviceaccount.com"},
                          {"token_uri", server->url("/token")}};
        write_file(dir + "/" + name, key.dump(2));
        return dir + "/" + name;
    }
    json stats() const { return json::parse(http_get(server->url("/stats"))); }
    SourceConfig source(const std::string& alias) const {
        for (auto& s : load_sources_file(sources))
            if (s.alias == alias) return s;
        throw std::runtime_error("no source " + alias);
    }
    // `tiles` tiles of row_of_tiles, fetched in one batch from `alias`.
    std::vector<EarthEngineImage> batch(const std::string& alias, int tiles, TokenCache& tokens, HttpEngine& engine) const {
        return batch(alias, row_of_tiles(tiles), tokens, engine);
    }
    std::vector<EarthEngineImage> batch(const std::string& alias, const std::vector<std::pair<std::uint64_t, TileGrid>>& grids,
                                        TokenCache& tokens, HttpEngine& engine) const {
        std::vector<EarthEngineImage> results;
        fetch_earthengine_images(source(alias), "sky-test", grids, engine, tokens, [&](EarthEngineImage&& r) { results.push_back(std::move(r)); });
        return results;
    }
    // `env`: more VAR=value words for the command's environment.
    CommandResult fetch(const std::string& alias, const std::string& key, const std::string& extra = "--side-m 400 --gsd 2",
                        const std::string& env = "") const {
        const auto r = run(env + " GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(key) + " " + fetch_one_command() + " --sources " +
                           sh_quote(sources) + " --source " + alias + " --center 9.505,53.513 " + extra + " -o " + sh_quote(dir + "/" + alias + ".tif"));
        // Keys and tokens never reach the output, whatever happened.
        CHECK(r.out.find("PRIVATE KEY") == std::string::npos);
        CHECK(r.err.find("PRIVATE KEY") == std::string::npos);
        CHECK(r.out.find("ya29.") == std::string::npos);
        CHECK(r.err.find("ya29.") == std::string::npos);
        return r;
    }
};

} // namespace

TEST_CASE("the computePixels body: the expression graph and the grid") {
    SourceConfig s;
    s.alias = "S2";
    s.kind = &earthengine_kind();
    EarthEngineSettings ee;
    ee.collection = "COPERNICUS/S2_SR_HARMONIZED";
    ee.cloud_property = "CLOUDY_PIXEL_PERCENTAGE";
    s.settings = std::make_shared<EarthEngineSettings>(ee);
    s.bands = {"B4", "B3", "B2"};
    s.stretch = {{0, 3000}};
    s.date_start = "2017-03-28";
    const auto grid = make_tile_grid(7.42, 43.73, 3840, 10);
    const auto body = earthengine_compute_pixels_body(s, grid);
    CHECK(body["fileFormat"] == "PNG");
    CHECK(body["grid"]["crsCode"] == "EPSG:32632");
    CHECK(body["grid"]["dimensions"]["width"] == 384);
    CHECK(body["grid"]["affineTransform"]["scaleX"] == 10.0);
    CHECK(body["grid"]["affineTransform"]["scaleY"] == -10.0);
    CHECK(body["grid"]["affineTransform"]["translateX"] == grid.geotransform[0]);
    // Walk the graph from the result down to the collection: the order of operations.
    auto node = body["expression"]["values"]["0"]["functionInvocationValue"];
    std::vector<std::string> chain;
    for (;;) {
        chain.push_back(node["functionName"]);
        const auto& args = node["arguments"];
        if (args.contains("image")) node = args["image"]["functionInvocationValue"];
        else if (args.contains("collection")) node = args["collection"]["functionInvocationValue"];
        else break;
    }
    CHECK(chain == std::vector<std::string>{"Image.visualize", "Collection.first", "Collection.limit", "Collection.limit",
                                            "Collection.filter", "Collection.filter", "ImageCollection.load"});
    const auto vis = body["expression"]["values"]["0"]["functionInvocationValue"]["arguments"];
    CHECK(vis["bands"]["constantValue"] == json::array({"B4", "B3", "B2"}));
    CHECK(vis["max"]["constantValue"] == 3000.0);
    const auto dump = body.dump();
    CHECK(dump.find("\"Filter.dateRangeContains\"") != std::string::npos);
    CHECK(dump.find("\"constantValue\":\"2017-03-28\"") != std::string::npos);
    CHECK(dump.find("\"constantValue\":\"CLOUDY_PIXEL_PERCENTAGE\"") != std::string::npos);
    CHECK_FALSE(earthengine_request_too_large(grid).has_value());
    CHECK(earthengine_request_too_large(make_tile_grid(7.42, 43.73, 4200, 1.0)).has_value()); // 4200^2*3 > 48 MB
}

TEST_CASE("the dates' last day is searched: DateRange's end, exclusive in Earth Engine, is the day after it (red-team round 34)") {
    SourceConfig s;
    s.alias = "S2";
    s.kind = &earthengine_kind();
    s.settings = std::make_shared<EarthEngineSettings>(EarthEngineSettings{});
    const auto date_range = [&](const std::string& start, const std::string& end) {
        s.date_start = start;
        s.date_end = end;
        // The DateRange call, wherever the graph holds it.
        std::function<const json*(const json&)> find = [&](const json& node) -> const json* {
            if (node.is_object() && node.contains("functionName") && node["functionName"] == "DateRange") return &node["arguments"];
            if (node.is_structured())
                for (const auto& child : node)
                    if (const auto* found = find(child)) return found;
            return nullptr;
        };
        const auto body = earthengine_compute_pixels_body(s, make_tile_grid(7.42, 43.73, 640, 10));
        const auto* args = find(body);
        REQUIRE(args);
        return std::pair{(*args)["start"]["constantValue"].get<std::string>(), (*args)["end"]["constantValue"].get<std::string>()};
    };
    CHECK(date_range("2021-06-01", "2021-06-01") == std::pair<std::string, std::string>{"2021-06-01", "2021-06-02"}); // one day: not empty
    CHECK(date_range("2017-01-01", "2021-12-31") == std::pair<std::string, std::string>{"2017-01-01", "2022-01-01"});
    CHECK(date_range("2020-02-01", "2020-02-28") == std::pair<std::string, std::string>{"2020-02-01", "2020-02-29"}); // a leap year
    CHECK(date_range("2021-02-01", "2021-02-28") == std::pair<std::string, std::string>{"2021-02-01", "2021-03-01"});
    CHECK(date_range("", "") == std::pair<std::string, std::string>{"1900-01-01", "2100-01-01"}); // open both ways: from 1900, not 1970 (red-team round 39)
    CHECK(date_range("2020-01-01", "9999-12-31") == std::pair<std::string, std::string>{"2020-01-01", "9999-12-31"}); // no year 10000
}

TEST_CASE("a service-account key whose token_uri is plain http to another host is refused: the signed assertion would travel in clear (red-team round 34)") {
    const auto dir = fresh_dir("ee-token-uri");
    REQUIRE(run("openssl genrsa -out " + sh_quote(dir + "/key.pem") + " 2048 2>/dev/null").exit_code == 0);
    const auto key = [&](const std::string& token_uri) {
        const json j = {{"type", "service_account"}, {"client_email", "b@sky-test.iam.gserviceaccount.com"},
                        {"private_key", read_file(dir + "/key.pem")}, {"token_uri", token_uri}};
        write_file(dir + "/key.json", j.dump());
        return dir + "/key.json";
    };
    CHECK_THROWS_WITH_AS(load_service_account(key("http://oauth.example.org/token")),
                         doctest::Contains("token_uri `http://oauth.example.org/token` is not an https:// address"), CredentialsError);
    CHECK_NOTHROW(load_service_account(key("https://oauth2.googleapis.com/token")));
    CHECK_NOTHROW(load_service_account(key("http://127.0.0.1:8/token"))); // a loopback test server
}

TEST_CASE("the value:compute body: the times of many footprints in one List.map, the same image selection") {
    SourceConfig s;
    s.alias = "S2";
    s.kind = &earthengine_kind();
    EarthEngineSettings ee;
    ee.collection = "COPERNICUS/S2_SR_HARMONIZED";
    ee.cloud_property = "CLOUDY_PIXEL_PERCENTAGE";
    s.settings = std::make_shared<EarthEngineSettings>(ee);
    s.bands = {"B4", "B3", "B2"};
    s.date_start = "2017-03-28";
    const std::vector<LonLatBox> footprints{{7.41, 43.72, 7.42, 43.73}, {7.5, 43.8, 7.51, 43.81}};
    const auto body = earthengine_times_body(s, footprints);
    const auto& values = body["expression"]["values"];
    REQUIRE(body["expression"]["result"] == "0");
    const auto map = values["0"]["functionInvocationValue"];
    CHECK(map["functionName"] == "List.map");
    CHECK(map["arguments"]["list"]["constantValue"] == json::array({json::array({7.41, 43.72, 7.42, 43.73}), json::array({7.5, 43.8, 7.51, 43.81})}));
    CHECK(map["arguments"]["dropNulls"]["constantValue"] == false);
    const auto fn = map["arguments"]["baseAlgorithm"]["functionDefinitionValue"];
    CHECK(fn["argumentNames"] == json::array({"_MAPPING_VAR_0_0"}));
    REQUIRE(fn["body"] == "1");
    // The mapped function: aggregate_array(limit(sorted selection, 1), system:time_start), down to the collection.
    auto node = values["1"]["functionInvocationValue"];
    CHECK(node["arguments"]["property"]["constantValue"] == "system:time_start");
    std::vector<std::string> chain;
    json region;
    for (;;) {
        chain.push_back(node["functionName"]);
        const auto& args = node["arguments"];
        if (node["functionName"] == "Collection.limit" && args.contains("limit")) CHECK(args["limit"]["constantValue"] == 1);
        if (node["functionName"] == "Collection.filter" && args["filter"]["functionInvocationValue"]["functionName"] == "Filter.intersects")
            region = args["filter"]["functionInvocationValue"]["arguments"]["rightValue"]["functionInvocationValue"]["arguments"]["geometry"];
        if (args.contains("collection")) node = args["collection"]["functionInvocationValue"];
        else break;
    }
    CHECK(chain == std::vector<std::string>{"AggregateFeatureCollection.array", "Collection.limit", "Collection.limit", "Collection.limit",
                                            "Collection.filter", "Collection.filter", "ImageCollection.load"});
    CHECK(region["functionInvocationValue"]["functionName"] == "GeometryConstructors.Rectangle");
    CHECK(region["functionInvocationValue"]["arguments"]["coordinates"] == json{{"argumentReference", "_MAPPING_VAR_0_0"}});
    // The selection is the computePixels one's, with the mapped footprint for the tile's rectangle.
    auto pixels = earthengine_image_node(s, make_tile_grid(7.415, 43.725, 1000, 10))["functionInvocationValue"]["arguments"]["collection"].dump();
    auto times = values["1"]["functionInvocationValue"]["arguments"]["collection"]["functionInvocationValue"]["arguments"]["collection"].dump();
    const auto cut = [](std::string& d) { d.erase(d.find("\"coordinates\""), d.find("\"geodesic\"") - d.find("\"coordinates\"")); };
    cut(pixels);
    cut(times);
    CHECK(pixels == times);

    // The answer: a list of one time per footprint, or none; anything else is not an answer.
    const auto parsed = parse_earthengine_times(json::parse("[[1625097600000], [], [1625097601000]]"), 3);
    REQUIRE(parsed.has_value());
    CHECK((*parsed)[0] == 1625097600000LL);
    CHECK_FALSE((*parsed)[1].has_value());
    CHECK((*parsed)[2] == 1625097601000LL);
    CHECK_FALSE(parse_earthengine_times(json::parse("[[1], []]"), 3).has_value());
    CHECK_FALSE(parse_earthengine_times(json::parse("[[1, 2]]"), 1).has_value());
    CHECK_FALSE(parse_earthengine_times(json::parse("[1]"), 1).has_value());
    CHECK_FALSE(parse_earthengine_times(json::parse("{\"a\": 1}"), 1).has_value());
    // A time no calendar holds is no answer either (it became INT64_MIN, or year 3170843).
    CHECK_FALSE(parse_earthengine_times(json::parse("[[1e300]]"), 1).has_value());
    CHECK_FALSE(parse_earthengine_times(json::parse("[[1e17]]"), 1).has_value());
    CHECK(parse_earthengine_times(json::parse("[[-757382400000]]"), 1).has_value()); // 1946: a time, even if before 1970
}

TEST_CASE("a token is renewed five minutes before it expires, or a fifth of its life when that is sooner") {
    using namespace std::chrono;
    CHECK(TokenCache::refresh_margin(seconds(3600), minutes(5)) == minutes(5));
    CHECK(TokenCache::refresh_margin(seconds(3), minutes(5)) == milliseconds(600));
    CHECK(TokenCache::refresh_margin(seconds(3600), seconds(30)) == seconds(30));
}

TEST_CASE("fetch-one from Earth Engine: signed JWT, token, pixels and acquisition time") {
    Fixture f;
    const auto r = f.fetch("S2T", f.key_json);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("200x200 px, EPSG:32632") != std::string::npos);
    CHECK(r.out.find("acquired 2021-07-01") != std::string::npos);
    CHECK(r.out.find("100.0% with data") != std::string::npos);
    const auto st = f.stats();
    CHECK(st["token_requests"] == 1);
    CHECK(st["rejected"].empty());
    CHECK(st["compute_pixels"] == 1);
    CHECK(st["value_compute"] == 1);
    CHECK(st["collections"][0] == "COPERNICUS/S2_SR_HARMONIZED");
    // The pixels are the raster's: the same tile through the gdal path (checked against gdalwarp elsewhere).
    const auto local = run(fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                           " --center 9.505,53.513 --side-m 400 --gsd 2 -o " + sh_quote(f.dir + "/local.tif"));
    REQUIRE(local.exit_code == 0);
    CHECK(mean_abs_diff(f.dir + "/S2T.tif", f.dir + "/local.tif") < 3.0);
}

TEST_CASE("a one-band (gray) answer where three bands were asked is no image of them (round 37)") {
    // Before: decoded as gray, written as the tile's colour image, exit 0.
    Fixture f({"--gray-png"});
    const auto r = f.fetch("S2T", f.key_json);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("a one-band (gray) PNG, where three bands were asked") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(f.dir + "/S2T.tif"));
}

TEST_CASE("a token answer whose expires_in is a string (\"3599\") is a token, not 'no access_token'") {
    Fixture f({"--expires-in-as-string"});
    const auto r = f.fetch("S2T", f.key_json);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(f.stats()["token_requests"] == 1);
}

TEST_CASE("many tiles: one token, one request each and one per 64 for the times, in-flight caps held exactly") {
    // Requests wait 1 s at the fake, so they pile up to whatever cap holds them (40 new
    // connections and their threads in the fake take well under that, even on a loaded machine).
    Fixture f({"--latency-ms", "1000"});
    ::setenv("GOOGLE_APPLICATION_CREDENTIALS", f.key_json.c_str(), 1);
    TokenCache tokens(service_account_from_environment());
    HttpEngineOptions options;
    options.max_in_flight = 64; // above Earth Engine's 40, so the source's cap is what holds
    HttpEngine engine(options);

    // A source asking for 5 in flight gets 5.
    const auto few = f.batch("CAP5", 6, tokens, engine);
    REQUIRE(few.size() == 6);
    CHECK(f.stats()["max_active"] == 5);

    // 45 tiles are 46 requests: at most 40 at once, and 40 reached, within the fake's quota.
    const auto results = f.batch("S2T", 45, tokens, engine);
    REQUIRE(results.size() == 45);
    for (const auto& r : results) {
        INFO(r.error);
        CHECK(r.ok);
        CHECK(r.image.width == 100);
    }
    const auto st = f.stats();
    CHECK(st["token_requests"] == 1);
    CHECK(st["compute_pixels"] == 51);
    CHECK(st["value_compute"] == 2);
    CHECK(st["max_active"] == earthengine_max_in_flight);
    CHECK(st["quota_429"] == 0);
    CHECK(tokens.fetches() == 1);
}

TEST_CASE("the times of 150 tiles: 150 computePixels and 3 value:compute, each time on its own tile") {
    Fixture f({"--flat-png"});
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    const auto grids = row_of_tiles(150);
    const auto results = f.batch("S2T", grids, tokens, engine);
    REQUIRE(results.size() == 150);
    std::map<std::uint64_t, long long> expected;
    for (const auto& [id, grid] : grids) expected[id] = fake_time_ms(grid.box);
    std::set<long long> times;
    for (const auto& r : results) {
        INFO(r.error);
        CHECK(r.ok);
        CHECK(r.time_ms == expected.at(r.id)); // the fake's time for this tile's footprint, not a neighbour's
        times.insert(r.time_ms);
    }
    CHECK(times.size() == 150); // every tile its own time: a mix-up cannot pass
    const auto st = f.stats();
    // Each computePixels asked for the grid of a tile of the batch, each tile's once (the
    // fake also refuses a grid that does not cover the footprint the expression selects over).
    std::multiset<std::string> asked, expected_grids;
    for (const auto& g : st["grids"]) asked.insert(g.dump());
    for (const auto& [id, grid] : grids)
        expected_grids.insert(json::array({grid.crs(), grid.geotransform[0], grid.geotransform[3], grid.gsd, grid.width, grid.height}).dump());
    CHECK(asked == expected_grids);
    CHECK(st["rejected"].empty());
    CHECK(st["compute_pixels"] == 150);
    CHECK(st["value_compute"] == 3); // ceil(150 / 64)
    CHECK(st["footprints"] == 150);
    CHECK(st["ee_requests"] == 153);
    CHECK(st["quota_429"] == 0);
    CHECK(st["quota_429_rate"] == 0);
    CHECK(engine.stats().requests == 153);
}

TEST_CASE("a tile with no image among tiles with images: told so by the time lookup, no pixels asked; the others their times") {
    Fixture f;
    auto grids = row_of_tiles(4);
    grids.emplace_back(200, make_tile_grid(9.60, 53.513, 200, 2)); // east of the fake's raster: no image there
    grids.emplace_back(201, make_tile_grid(9.61, 53.513, 200, 2));
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    const auto results = f.batch("S2T", grids, tokens, engine);
    REQUIRE(results.size() == 6);
    for (const auto& r : results) {
        INFO(r.error);
        if (r.id >= 200) {
            CHECK_FALSE(r.ok);
            CHECK(r.no_imagery); // another source may have it (the fetch stage's fallback)
            CHECK(r.error.find("Earth Engine (S2T, COPERNICUS/S2_SR_HARMONIZED): no image over this tile between 2019-01-01 and now") == 0);
        } else {
            CHECK(r.ok);
            CHECK_FALSE(r.no_imagery);
            CHECK(r.time_ms == fake_time_ms(grids[r.id - 100].second.box));
        }
    }
    CHECK(f.stats()["value_compute"] == 1);
    CHECK(f.stats()["compute_pixels"] == 4); // none for the two tiles the lookup found empty
}

TEST_CASE("look-ahead: the next batch's times come with this batch's; that batch then asks only for pixels, with the right times") {
    Fixture f; // imagery over the fake's raster only: a tile east of it has no image
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    auto first = row_of_tiles(3);
    std::vector<std::pair<std::uint64_t, TileGrid>> second;
    for (int i = 0; i < 4; ++i) second.emplace_back(300 + i, make_tile_grid(9.503 + 0.00005 * i, 53.512, 200, 2));
    second.emplace_back(310, make_tile_grid(9.60, 53.513, 200, 2)); // no image there
    KnownTimes known;
    std::vector<EarthEngineImage> results;
    auto collect = [&](EarthEngineImage&& r) { results.push_back(std::move(r)); };
    fetch_earthengine_images(f.source("S2T"), "sky-test", first, engine, tokens, collect, &known, second);
    CHECK(results.size() == 3);
    CHECK(known.size() == 5);
    const auto before = f.stats();
    CHECK(before["value_compute"] == 1); // both batches' times in one look-up
    CHECK(before["compute_pixels"] == 3);

    results.clear();
    second[3].second = make_tile_grid(9.5035, 53.5125, 200, 2); // moved since the look-ahead: asked again
    fetch_earthengine_images(f.source("S2T"), "sky-test", second, engine, tokens, collect, &known, {});
    REQUIRE(results.size() == 5);
    for (const auto& r : results) {
        INFO(r.id << " " << r.error);
        if (r.id == 310) {
            CHECK(r.no_imagery);
            continue;
        }
        CHECK(r.ok);
        const auto& grid = std::find_if(second.begin(), second.end(), [&](const auto& g) { return g.first == r.id; })->second;
        CHECK(r.time_ms == fake_time_ms(grid.box)); // each tile its own time, looked up ahead or not
    }
    const auto after = f.stats();
    CHECK(after["value_compute"] == 2); // only the moved tile's
    CHECK(after["footprints"].get<int>() == before["footprints"].get<int>() + 1);
    CHECK(after["compute_pixels"] == 7); // none for the tile with no image
    CHECK(known.empty());
}

TEST_CASE("an image dated outside the source's dates (a service that ignored the filter) is not taken, looked up ahead or not (red-team round 39)") {
    Fixture f({"--flat-png", "--ignore-dates"}); // 2021's images whatever the dates ask; OLD's end in 2020
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    const auto first = row_of_tiles(3);
    std::vector<std::pair<std::uint64_t, TileGrid>> second;
    for (int i = 0; i < 2; ++i) second.emplace_back(300 + i, make_tile_grid(9.503 + 0.00005 * i, 53.512, 200, 2));
    KnownTimes known;
    std::vector<EarthEngineImage> results;
    auto collect = [&](EarthEngineImage&& r) { results.push_back(std::move(r)); };
    fetch_earthengine_images(f.source("OLD"), "sky-test", first, engine, tokens, collect, &known, second);
    fetch_earthengine_images(f.source("OLD"), "sky-test", second, engine, tokens, collect, &known, {});
    REQUIRE(results.size() == 5);
    for (const auto& r : results) {
        INFO(r.id << " " << r.error);
        CHECK_FALSE(r.ok);
        CHECK_FALSE(r.no_imagery); // not a place without images: an answer that cannot be trusted
        CHECK(r.error.find("answered an image taken 2021-07-0") != std::string::npos);
        CHECK(r.error.find("outside the source's dates (2019-01-01 to 2020-12-31)") != std::string::npos);
    }
    const auto st = f.stats();
    CHECK(st["value_compute"] == 1); // both batches' times in the first look-up
    CHECK(st["compute_pixels"] == 0); // no pixels asked for an image of another year
}

TEST_CASE("a failing value:compute: each tile of its batch fails with the reason, no pixels asked, and no tile is 'no imagery'") {
    Fixture f({"--flat-png", "--fail-value-compute", "500"});
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngineOptions options;
    options.max_attempts = 2;
    options.backoff_base_s = 0.05;
    HttpEngine engine(options);
    const auto results = f.batch("S2T", 70, tokens, engine);
    REQUIRE(results.size() == 70);
    for (const auto& r : results) {
        CHECK_FALSE(r.ok);
        CHECK(r.error == "Earth Engine (S2T, COPERNICUS/S2_SR_HARMONIZED): HTTP 500 Internal Server Error (after 2 attempts): Computation timed out.");
        CHECK(r.image.width == 0);
        CHECK_FALSE(r.no_imagery); // a fault is not an answer: the job fails, no other source is asked
    }
    const auto st = f.stats();
    CHECK(st["compute_pixels"] == 0); // the times come first
    CHECK(st["value_compute"] == 4); // two batches, two attempts each
}

TEST_CASE("the fake holds a client to the quota: 429 beyond the concurrent cap, and beyond the rate") {
    {
        Fixture f({"--flat-png", "--latency-ms", "300", "--max-concurrent", "10"});
        TokenCache tokens(load_service_account(f.key_json));
        HttpEngine engine;
        CHECK(f.batch("S2T", 30, tokens, engine).size() == 30);
        CHECK(f.stats()["quota_429"].get<int>() > 0);
    }
    {
        Fixture f({"--flat-png", "--max-per-second", "10"});
        TokenCache tokens(load_service_account(f.key_json));
        HttpEngine engine;
        CHECK(f.batch("S2T", 30, tokens, engine).size() == 30);
        CHECK(f.stats()["quota_429"].get<int>() > 0);
    }
}

TEST_CASE("a tile across the antimeridian is one box with east + 360 in both requests; every request names the project to bill") {
    Fixture f({"--flat-png", "--imagery-everywhere"});
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    // Fiji: 400 m tiles centred at 179.999 E reach past 180 (their box's east is about -179.9991),
    // and one tile wholly east of 180 and one wholly west of it.
    std::vector<std::pair<std::uint64_t, TileGrid>> grids;
    for (const double lon : {179.999, 179.9985, -179.99, 179.99}) grids.emplace_back(300 + grids.size(), make_tile_grid(lon, -16.5, 400, 2));
    REQUIRE(grids[0].second.box.west > grids[0].second.box.east); // the case: the box's corners straddle the antimeridian
    const auto results = f.batch("S2T", grids, tokens, engine);
    REQUIRE(results.size() == grids.size());
    for (const auto& r : results) {
        INFO(r.error);
        CHECK(r.ok);
    }
    const auto st = f.stats();
    CHECK(st["rejected"].empty());
    CHECK(st["compute_pixels"].get<int>() == 4);
    CHECK(st["value_compute"].get<int>() >= 1);
    CHECK(st["user_project_wrong"].get<int>() == 0);
    CHECK(st["user_projects"] == json::array({"sky-test"}));
}

TEST_CASE("a project id that could smuggle a header or a path is refused in one line, before any request") {
    Fixture f;
    // fetch-one of a source whose project is `project` (TOML string text).
    const auto fetch_with_project = [&](const std::string& project) {
        write_file(f.dir + "/bad.toml", "[[source]]\nalias = \"BAD\"\nkind = \"earthengine\"\ncollection = \"COPERNICUS/S2_SR_HARMONIZED\"\n"
                                        "project = \"" + project + "\"\nendpoint = \"" + f.server->url("") + "\"\ngsd = 2\nbands = [\"B4\", \"B3\", \"B2\"]\n");
        return run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(f.key_json) + " " + fetch_one_command() + " --sources " + sh_quote(f.dir + "/bad.toml") +
                   " --source BAD --center 9.505,53.513 --side-m 400 --gsd 2 -o " + sh_quote(f.dir + "/bad.tif"));
    };
    const auto r = fetch_with_project("sky-test\\r\\nX-Evil: 1");
    INFO(r.err);
    CHECK(r.exit_code == 1);
    // Refused as the sources file is read (a control character in a string), before the source's own check of project ids.
    CHECK(r.err.find("bad.toml:5: source 1 (BAD): `project` holds a control character") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    // A path in it: the source's own check.
    const auto p = fetch_with_project("sky-test/../x?y");
    INFO(p.err);
    CHECK(p.exit_code == 1);
    CHECK(p.err.find("project `sky-test?..?x?y` is not a Cloud project id") != std::string::npos);
    CHECK(f.stats()["ee_requests"].get<int>() == 0);
}

TEST_CASE("a batch that outlives several tokens: each request takes the token when it is sent") {
    // Tokens live 3 s; 48 tiles (49 requests) at 8 requests/s take 6 s. The cache renews a
    // token a fifth of its life before it expires (five minutes for real, hour-long tokens).
    Fixture f({"--token-expires-in", "3"});
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    const auto results = f.batch("SLOW", 48, tokens, engine);
    REQUIRE(results.size() == 48);
    for (const auto& r : results) {
        INFO(r.error);
        CHECK(r.ok);
    }
    const auto st = f.stats();
    CHECK(st["token_requests"].get<int>() >= 3);
    CHECK(st["token_requests"] == tokens.fetches());
    CHECK(st["rejected"].empty());
    // No request went with a token past its life: each was renewed before it expired, not
    // after a 401 (which would also end with every tile fetched).
    CHECK(st["expired"] == 0);
    CHECK(st["token_use"].size() >= 3);
    for (const auto& [token, use] : st["token_use"].items()) {
        INFO(token << ": " << use.dump());
        CHECK(use["min_left_s"].get<double>() > 0);
    }

    // A key the token endpoint refuses still says so, before anything is sent.
    TokenCache wrong(load_service_account(f.wrong_key_json));
    std::string message;
    try {
        (void)f.batch("SLOW", 2, wrong, engine);
    } catch (const CredentialsError& e) {
        message = e.what();
    }
    CHECK(message.find("refused the service-account key for builder@sky-test.iam.gserviceaccount.com") != std::string::npos);
    CHECK(message.find("Invalid JWT Signature") != std::string::npos);
    CHECK(f.stats()["compute_pixels"] == 48);
}

TEST_CASE("tokens that die before their advertised life: a 401 renews the token and sends again, once") {
    // The fake advertises an hour but refuses each token 2 s after issuing it, and
    // answers 100 ms after a request arrives, so tokens also expire in flight.
    Fixture f({"--token-valid-s", "2", "--latency-ms", "100"});
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    const auto results = f.batch("SLOW", 48, tokens, engine);
    REQUIRE(results.size() == 48);
    for (const auto& r : results) {
        INFO(r.error);
        CHECK(r.ok);
    }
    const auto st = f.stats();
    CHECK(st["expired"].get<int>() >= 2);
    CHECK(st["token_requests"].get<int>() >= 3);
    // Requests refused with the same old token ask for one new token between them.
    CHECK(st["token_requests"].get<int>() <= st["expired"].get<int>() + 1);
}

TEST_CASE("a token refused twice: the request fails with the access-token message") {
    Fixture f({"--token-valid-s", "0"});
    const auto r = f.fetch("S2T", f.key_json);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("refused the access token (HTTP 401: Request had invalid authentication credentials") != std::string::npos);
    CHECK(r.err.find("check the service-account key") != std::string::npos);
    CHECK(f.stats()["expired"] == 2); // the time lookup, sent twice; no pixels are asked for a tile whose lookup failed
}

TEST_CASE("a key revoked in the middle of a batch: the images after it give the key's message") {
    // Tokens live 2 s (renewed at 1.6 s); the fake grants one token and refuses the key after.
    // 40 tiles are 41 requests at 8 a second: 5 s, so the last ones go after the refusal.
    Fixture f({"--token-expires-in", "2", "--max-tokens", "1"});
    TokenCache tokens(load_service_account(f.key_json));
    HttpEngine engine;
    const auto results = f.batch("SLOW", 40, tokens, engine);
    REQUIRE(results.size() == 40);
    int ok = 0;
    for (const auto& r : results) {
        if (r.ok) {
            ++ok;
            continue;
        }
        INFO(r.error);
        CHECK(r.error.find("refused the service-account key for builder@sky-test.iam.gserviceaccount.com") != std::string::npos);
        CHECK(r.error.find("refused the access token") == std::string::npos);
        CHECK(r.error.find(f.key_json) == std::string::npos); // a reason stored with the build: not where the key is
    }
    CHECK(ok >= 2);
    CHECK(ok < 40);
    CHECK(f.stats()["token_requests"] == 2); // refused once, not asked again for every request
}

TEST_CASE("fetch-one reaches a loopback Earth Engine whatever proxy the environment sets") {
    Fixture f;
    const std::string dead = "http://127.0.0.1:1"; // nobody listens: a request through it fails
    const auto r = f.fetch("S2T", f.key_json, "--side-m 400 --gsd 2",
                           "env -u no_proxy -u NO_PROXY http_proxy=" + dead + " HTTP_PROXY=" + dead + " https_proxy=" + dead +
                               " ALL_PROXY=" + dead + " all_proxy=" + dead);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(f.stats()["token_requests"] == 1);
}

TEST_CASE("Earth Engine failures become messages that say what to do") {
    Fixture f;
    const auto wrong = f.fetch("S2T", f.wrong_key_json);
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("refused the service-account key for builder@sky-test.iam.gserviceaccount.com") != std::string::npos);
    CHECK(wrong.err.find("Invalid JWT Signature") != std::string::npos);
    CHECK(wrong.err.find(f.wrong_key_json) != std::string::npos);

    const auto forbidden = f.fetch("FORB", f.key_json);
    CHECK(forbidden.exit_code == 1);
    CHECK(forbidden.err.find("permission denied (HTTP 403: Permission denied.); the Cloud project must be registered for Earth Engine") != std::string::npos);

    // A server that echoes the access token, bare and in its header: neither reaches the message.
    const auto echo = f.fetch("ECHO", f.key_json);
    CHECK(echo.exit_code == 1);
    CHECK(echo.err.find("permission denied (HTTP 403: Permission denied for REDACTED (header 'Bearer REDACTED'))") != std::string::npos);
    CHECK((echo.out + echo.err).find("ya29.") == std::string::npos);

    const auto busy = f.fetch("BUSY", f.key_json);
    CHECK(busy.exit_code == 0); // 429 with Retry-After, then served
    CHECK(f.stats()["busy_hits"].get<int>() >= 3);

    const auto empty = f.fetch("EMPTY", f.key_json);
    CHECK(empty.exit_code == 1);
    CHECK(empty.err.find("no image over this tile between 2019-01-01 and now") != std::string::npos);

    const int before = f.stats()["compute_pixels"];
    const auto big = f.fetch("S2T", f.key_json, "--side-m 500 --gsd 0.1");
    CHECK(big.exit_code == 1);
    CHECK(big.err.find("over Earth Engine's 50,331,648 bytes a request") != std::string::npos);
    CHECK(f.stats()["compute_pixels"] == before); // refused before sending

    const auto none = run("env -u GOOGLE_APPLICATION_CREDENTIALS " + fetch_one_command() + " --sources " + sh_quote(f.sources) +
                          " --source S2T --center 9.505,53.513 --side-m 400 --gsd 2 -o " + sh_quote(f.dir + "/x.jpg"));
    CHECK(none.exit_code == 1);
    CHECK(none.err == "skyscript-build: error: no Earth Engine credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file\n");
    write_file(f.dir + "/broken.json", "{\"type\": \"service_account\", \"client_email\": \"a@b\"}");
    const auto broken = f.fetch("S2T", f.dir + "/broken.json");
    CHECK(broken.err == "skyscript-build: error: " + f.dir + "/broken.json: the service-account key has no `private_key`\n");
}

TEST_CASE("sources --check asks for a token") {
    Fixture f;
    const auto r = run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(f.key_json) + " " + sh_quote(binary()) + " sources --check --sources " + sh_quote(f.sources));
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("usable: token granted (builder@sky-test.iam.gserviceaccount.com, project sky-test)") != std::string::npos);
    CHECK(r.out.find("ya29.") == std::string::npos);
    // A key the token endpoint refuses: exit 1, one line per source naming it and why.
    const auto refused = run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(f.wrong_key_json) + " " + sh_quote(binary()) + " sources --check --sources " +
                             sh_quote(f.sources));
    CHECK(refused.exit_code == 1);
    const auto l = lines(refused.err);
    CHECK(l.size() == 8); // one a source
    for (const auto& line : l) {
        CHECK(line.starts_with("skyscript-build: source "));
        CHECK(line.find(" (earthengine) is not usable: " + f.wrong_key_json + ": " + f.server->url("/token") +
                        " refused the service-account key for builder@sky-test.iam.gserviceaccount.com (HTTP 400: Invalid JWT Signature.)") !=
              std::string::npos);
    }
    CHECK(refused.err.find("source S2T (earthengine)") != std::string::npos);
    // Without --check the key is read, not tried: nothing known is wrong with it.
    CHECK(run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(f.wrong_key_json) + " " + sh_quote(binary()) + " sources --sources " + sh_quote(f.sources))
              .exit_code == 0);
}

TEST_CASE("the token endpoint: asked within --timeout and --attempts, its echo of the signed assertion cut out, a token with CR/LF refused") {
    const auto dir = fresh_dir("earthengine-token-faults");
    // A token endpoint misbehaving one way: a byte a second, a 400 quoting the request, a token holding a header.
    write_file(dir + "/token_server.py", R"(import sys, time, json, urllib.parse
sys.path.insert(0, sys.argv[1])
from http.server import BaseHTTPRequestHandler
from loopback_server import send_body, serve
mode = sys.argv[2]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if mode == "slow":
            self.send_response(200); self.send_header("Content-Length", "100"); self.end_headers()
            for _ in range(100):
                self.wfile.write(b" "); self.wfile.flush(); time.sleep(1)
        elif mode == "echo":
            assertion = urllib.parse.parse_qs(body)["assertion"][0]
            send_body(self, 400, "application/json", json.dumps({"error": "invalid_grant", "error_description": "bad assertion " + assertion}).encode())
        else:
            send_body(self, 200, "application/json", json.dumps({"access_token": "ya29.T\r\nX-Injected: yes", "expires_in": 3600}).encode())
serve(H)
)");
    const auto account_for = [&](const ServerProcess& server) {
        auto account = load_service_account(Fixture().key_json);
        account.token_uri = server.url("/token");
        return account;
    };
    {
        ServerProcess slow({"/usr/bin/python3", dir + "/token_server.py", source_dir() + "/tests", "slow"});
        TokenCache tokens(account_for(slow), earthengine_scope, std::chrono::minutes(5), TokenRequestLimits{2, 1});
        const auto start = std::chrono::steady_clock::now();
        CHECK_THROWS_WITH_AS(tokens.token(), doctest::Contains("cannot get an access token"), CredentialsError);
        const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CHECK(took < 10); // before: 30 s a try, 4 tries (~128 s)
        CHECK(tokens.fetches() == 1);
        // The source takes its limits from the fetch's --timeout and --attempts.
        const Fixture f;
        auto key = json::parse(read_file(f.key_json));
        key["token_uri"] = slow.url("/token");
        write_file(dir + "/slow-key.json", key.dump());
        const auto fetch_start = std::chrono::steady_clock::now();
        const auto r = run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(dir + "/slow-key.json") + " timeout 120 " + sh_quote(binary()) +
                           " fetch-one --timeout 2 --attempts 1 --sources " + sh_quote(f.sources) + " --source S2T --center 9.505,53.513 --side-m 400 --gsd 2 -o " +
                           sh_quote(dir + "/slow.tif"));
        const double fetch_took = std::chrono::duration<double>(std::chrono::steady_clock::now() - fetch_start).count();
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("cannot get an access token") != std::string::npos);
        CHECK(fetch_took < 15);
    }
    {
        ServerProcess echo({"/usr/bin/python3", dir + "/token_server.py", source_dir() + "/tests", "echo"});
        TokenCache tokens(account_for(echo));
        try {
            (void)tokens.token();
            FAIL("a refused key gave a token");
        } catch (const CredentialsError& e) {
            const std::string what = e.what();
            INFO(what);
            CHECK(what.find("bad assertion REDACTED") != std::string::npos);
            CHECK(what.find("eyJ") == std::string::npos); // no JWT (base64url of `{"`) in it
        }
    }
    {
        ServerProcess crlf({"/usr/bin/python3", dir + "/token_server.py", source_dir() + "/tests", "crlf"});
        TokenCache tokens(account_for(crlf));
        CHECK_THROWS_WITH_AS(tokens.token(), doctest::Contains("holds spaces or control characters"), CredentialsError);
    }
}

TEST_CASE("an endpoint that is not Google's over https, nor loopback, is refused: the service account's token would be sent there (red-team round 29)") {
    const auto dir = fresh_dir("ee-endpoint");
    const auto with = [&](const std::string& endpoint) {
        write_file(dir + "/s.toml", "[[source]]\nalias = \"E\"\nkind = \"earthengine\"\ncollection = \"C\"\ngsd = 10\nbands = [\"B4\", \"B3\", \"B2\"]\nendpoint = \"" +
                                        endpoint + "\"\n");
        return dir + "/s.toml";
    };
    for (const std::string bad : {"http://evil.example", "https://evil.example/v1", "https://earthengine.googleapis.com.evil.example",
                                  "https://user@earthengine.googleapis.com", "http://earthengine.googleapis.com", "file:///tmp", "earthengine.googleapis.com"}) {
        CAPTURE(bad);
        try {
            load_sources_file(with(bad));
            FAIL("accepted"); // before: accepted, the fetch sending `Authorization: Bearer` to it
        } catch (const std::exception& e) {
            CHECK(std::string(e.what()).find("`endpoint` must be an https:// address under googleapis.com") != std::string::npos);
        }
    }
    for (const std::string good : {"https://earthengine-highvolume.googleapis.com", "https://earthengine.googleapis.com/", "HTTPS://EarthEngine.GoogleAPIs.com",
                                   "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"}) {
        CAPTURE(good);
        CHECK_NOTHROW(load_sources_file(with(good)));
    }
}
