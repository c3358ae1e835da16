// The earthengine source against a loopback fake (tests/earthengine_fake_server.py)
// that verifies the JWT's RS256 signature with the test key's public half, the bearer
// token and the request bodies, and answers pixels cut from a real raster. The keys are
// made by the test with openssl; none is committed.

#include "earthengine_source.hpp"
#include "service_account.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <gdal_priv.h>
#include <memory>

using namespace skyscript::imagery;
using namespace skyscript::test;
using json = nlohmann::json;

namespace {

struct Fixture {
    std::string dir, key_json, wrong_key_json, sources;
    std::unique_ptr<ServerProcess> server;

    Fixture() {
        dir = fresh_dir("earthengine");
        REQUIRE(run("openssl genrsa -out " + sh_quote(dir + "/key.pem") + " 2048").exit_code == 0);
        REQUIRE(run("openssl rsa -in " + sh_quote(dir + "/key.pem") + " -pubout -out " + sh_quote(dir + "/pub.pem")).exit_code == 0);
        REQUIRE(run("openssl genrsa -out " + sh_quote(dir + "/other.pem") + " 2048").exit_code == 0);
        server = std::make_unique<ServerProcess>(std::vector<std::string>{
            "python3", source_dir() + "/tests/earthengine_fake_server.py", "--public-key", dir + "/pub.pem", "--client-email",
            "builder@sky-test.iam.gserviceaccount.com", "--raster", data("imagery/dop-rgb.tif")});
        key_json = write_key("key.json", "key.pem");
        wrong_key_json = write_key("wrong.json", "other.pem");
        sources = dir + "/sources.toml";
        std::string toml;
        for (const auto& [alias, project, collection] : std::vector<std::tuple<std::string, std::string, std::string>>{
                 {"S2T", "sky-test", "COPERNICUS/S2_SR_HARMONIZED"}, {"FORB", "forbidden", "COPERNICUS/S2_SR_HARMONIZED"},
                 {"BUSY", "busy", "COPERNICUS/S2_SR_HARMONIZED"}, {"EMPTY", "sky-test", "EMPTY/COLLECTION"}})
            toml += "[[source]]\nalias = \"" + alias + "\"\nkind = \"earthengine\"\ncollection = \"" + collection + "\"\nproject = \"" +
                    project + "\"\nendpoint = \"" + server->url("") + "\"\ngsd = 2\nbands = [\"B4\", \"B3\", \"B2\"]\nstretch = [0, 255]\n"
                    "dates = [\"2019-01-01\", \"\"]\ncloud_property = \"CLOUDY_PIXEL_PERCENTAGE\"\n\n";
        write_file(sources, toml);
    }
    std::string write_key(const std::string& name, const std::string& pem) {
        const json key = {{"type", "service_account"}, {"project_id", "sky-test"}, {"private_key_id", "0123"},
                          {"private_key", read_file(dir + "/" + pem)}, {"client_email", "builder@sky-test.iam.gserviceaccount.com"},
                          {"token_uri", server->url("/token")}};
        write_file(dir + "/" + name, key.dump(2));
        return dir + "/" + name;
    }
    json stats() const { return json::parse(http_get(server->url("/stats"))); }
    CommandResult fetch(const std::string& alias, const std::string& key, const std::string& extra = "--side-m 400 --gsd 2") const {
        const auto r = run("GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(key) + " " + sh_quote(binary()) + " fetch-one --sources " +
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
    s.kind = SourceKind::earthengine;
    s.collection = "COPERNICUS/S2_SR_HARMONIZED";
    s.bands = {"B4", "B3", "B2"};
    s.stretch = {{0, 3000}};
    s.date_start = "2017-03-28";
    s.cloud_property = "CLOUDY_PIXEL_PERCENTAGE";
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
    CHECK(earthengine_time_body(s, grid).dump().find("\"Element.get\"") != std::string::npos);
    CHECK_FALSE(earthengine_request_too_large(grid).has_value());
    CHECK(earthengine_request_too_large(make_tile_grid(7.42, 43.73, 4200, 1.0)).has_value()); // 4200^2*3 > 48 MB
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
    const auto local = run(sh_quote(binary()) + " fetch-one --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                           " --center 9.505,53.513 --side-m 400 --gsd 2 -o " + sh_quote(f.dir + "/local.tif"));
    REQUIRE(local.exit_code == 0);
    CHECK(mean_abs_diff(f.dir + "/S2T.tif", f.dir + "/local.tif") < 3.0);
}

TEST_CASE("many tiles: one token, two requests each, all images with their time") {
    Fixture f;
    ::setenv("GOOGLE_APPLICATION_CREDENTIALS", f.key_json.c_str(), 1);
    const auto sources = load_sources_file(f.sources);
    TokenCache tokens(service_account_from_environment());
    HttpEngine engine;
    std::vector<std::pair<std::uint64_t, TileGrid>> grids;
    for (int i = 0; i < 6; ++i) grids.emplace_back(100 + i, make_tile_grid(9.502 + 0.001 * i, 53.513, 200, 2));
    std::vector<EarthEngineImage> results;
    fetch_earthengine_images(sources[0], "sky-test", grids, engine, tokens, [&](EarthEngineImage&& r) { results.push_back(std::move(r)); });
    REQUIRE(results.size() == 6);
    for (const auto& r : results) {
        INFO(r.error);
        CHECK(r.ok);
        CHECK(r.time_ms == 1625097600000LL);
        CHECK(r.image.width == 100);
    }
    const auto st = f.stats();
    CHECK(st["token_requests"] == 1);
    CHECK(st["compute_pixels"] == 6);
    CHECK(st["value_compute"] == 6);
    CHECK(st["max_active"].get<int>() <= earthengine_max_in_flight);
    CHECK(tokens.fetches() == 1);
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

    const auto none = run("env -u GOOGLE_APPLICATION_CREDENTIALS " + sh_quote(binary()) + " fetch-one --sources " + sh_quote(f.sources) +
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
    CHECK(r.out.find("usable: token granted (builder@sky-test.iam.gserviceaccount.com, project sky-test)") != std::string::npos);
    CHECK(r.out.find("ya29.") == std::string::npos);
}
