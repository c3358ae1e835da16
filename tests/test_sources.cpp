// The sources TOML: the built-in SkyScript defaults, validation with file and line,
// and `skyscript-build sources` (its exit status: 1 when a source cannot be used).

#include "imagery/source_config.hpp"
#include "imagery/sources/earthengine/earthengine_kind.hpp"
#include "imagery/sources/stac/stac_kind.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace skyscript::imagery;
using namespace skyscript::test;

namespace {

std::string error_of(const std::string& toml) {
    try {
        parse_sources(toml, "s.toml");
    } catch (const SourceConfigError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("built-in sources are SkyScript's ten Earth Engine collections (SPEC section 4)") {
    const auto s = builtin_sources();
    REQUIRE(s.size() == 10);
    struct Row {
        const char* alias;
        const char* collection;
        double gsd;
    };
    const Row expected[] = {{"CH", "ORTHO/Switzerland/SWISSIMAGE/10cm", 0.1}, {"ES", "Spain/PNOA/PNOA10", 0.1},
                            {"DE", "Germany/Brandenburg/orthos/20cm", 0.2},   {"FI", "Finland/SMK/V/50cm", 0.5},
                            {"US", "USDA/NAIP/DOQQ", 0.6},                    {"P3", "SKYSAT/GEN-A/PUBLIC/ORTHO/RGB", 0.8},
                            {"P5", "SKYSAT/GEN-A/PUBLIC/ORTHO/MULTISPECTRAL", 2}, {"S2", "COPERNICUS/S2_SR_HARMONIZED", 10},
                            {"L8", "LANDSAT/LC08/C02/T1_TOA", 30},            {"L9", "LANDSAT/LC09/C02/T1_TOA", 30}};
    for (std::size_t i = 0; i < 10; ++i) {
        INFO(expected[i].alias);
        CHECK(s[i].alias == expected[i].alias);
        CHECK(s[i].kind == &earthengine_kind());
        CHECK(s[i].settings_as<EarthEngineSettings>().collection == expected[i].collection);
        CHECK(s[i].gsd == expected[i].gsd);
        CHECK(s[i].bands.size() == 3);
        CHECK(s[i].stretch.has_value());
        CHECK_FALSE(s[i].licence.empty());
    }
    CHECK(s[0].covers(8.5, 47.0));       // Switzerland
    CHECK_FALSE(s[0].covers(2.3, 48.9)); // Paris
    CHECK(s[7].bands == std::vector<std::string>{"B4", "B3", "B2"});
    CHECK(s[7].stretch->second == 3000);
    CHECK(s[7].settings_as<EarthEngineSettings>().cloud_property == "CLOUDY_PIXEL_PERCENTAGE");
    CHECK(s[8].stretch->second == doctest::Approx(0.3));
}

TEST_CASE("gdal and xyz sources; TMS and quadkey URLs; antimeridian coverage") {
    const auto s = parse_sources(R"(
[[source]]
alias = "DOP"
kind = "gdal"
path = "dop.tif"
year = 2020
bands = [3, 2, 1]

[[source]]
alias = "T"
kind = "xyz"
url = "http://127.0.0.1:8000/{z}/{x}/{-y}.jpg"
gsd = 0.6
tile_px = 512
coverage = [170, -20, -170, 10]
)",
                                 "s.toml");
    REQUIRE(s.size() == 2);
    CHECK(s[0].year == 2020);
    CHECK(s[0].bands == std::vector<std::string>{"3", "2", "1"});
    CHECK(s[1].settings_as<XyzSettings>().tms);
    CHECK(s[1].settings_as<XyzSettings>().tile_px == 512);
    CHECK(s[1].covers(175, 0));
    CHECK(s[1].covers(-175, 0));
    CHECK_FALSE(s[1].covers(0, 0));
}

TEST_CASE("bad sources files: one message naming file, line and source") {
    CHECK(error_of("[[source]\n") .starts_with("s.toml:1: "));
    CHECK(error_of("x = 1\n") == "s.toml: no [[source]] table");
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"wms\"\n") == "s.toml:3: source 1 (A): kind must be earthengine, gdal, stac or xyz, got `wms`");
    CHECK(error_of("[[source]]\nkind = \"gdal\"\npath = \"x\"\n") == "s.toml:1: source 1: needs `alias`");
    CHECK(error_of("[[source]]\nalias = \"A_B\"\nkind = \"gdal\"\npath = \"x\"\n").find("alias must be 1-8 letters or digits") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\n[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"y\"\n") ==
          "s.toml:5: source 2 (A): alias `A` is used twice (aliases are told apart without regard to case)");
    // a1 and A1 name the same files on a case-insensitive file system (a red-team finding).
    CHECK(error_of("[[source]]\nalias = \"a1\"\nkind = \"gdal\"\npath = \"x\"\n[[source]]\nalias = \"A1\"\nkind = \"gdal\"\npath = \"y\"\n") ==
          "s.toml:5: source 2 (A1): alias `A1` is used twice (aliases are told apart without regard to case)");
    // A NUL cut the path GDAL opened short; a line break split every message naming it (a red-team finding).
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x.tif\\u0000.evil\"\n").find("`path` holds a control character") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\\n.tif\"\n").find("`path` holds a control character") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{z}/{x}/{y}\\r\\nX: 1\"\ngsd = 1\n").find("`url` holds a control character") !=
          std::string::npos);
    // An inline XML description may run over lines.
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\nyear = 2020\npath = \"\"\"<GDAL_WMS>\n<Service name=\\\"WMS\\\"/>\n</GDAL_WMS>\"\"\"\n")
              .find("control character") == std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/tiles\"\ngsd = 1\n").find("url needs {z}") != std::string::npos);
    // Placeholders of other tools reached the server as they were (a red-team finding).
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://{s}.h/{z}/{x}/{y}.png\"\ngsd = 1\n")
              .find("url has `{s}`, which is not one of {z}, {x}, {y}, {-y}, {q} (for {s}, give one subdomain)") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{z}/{x}/{y}{r}.png\"\ngsd = 1\n").find("url has `{r}`") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/${z}/${x}/${y}.png\"\ngsd = 1\n").find("url has `${z}` (GDAL's form): write {z}") !=
          std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{z}/{x}/{y}.png?v={Z}\"\ngsd = 1\n").find("url has `{Z}`") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{q}\"\n").find("needs `gsd`") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"earthengine\"\ncollection = \"C\"\ngsd = 10\n").find("needs `bands`") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ncoverage = [1, 2, 3]\n").find("coverage must be") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ndates = [\"2020-13-01\", \"\"]\n").find("dates must be") != std::string::npos);
    // A day the calendar has not (30 February; 29 February of a common year), a band past any raster's
    // (std::stoi failed on it mid-build with "error: stoi"), a pixel of no size: refused when read.
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ndates = [\"2020-02-30\", \"\"]\n").find("dates must be") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ndates = [\"2021-02-29\", \"\"]\n").find("dates must be") != std::string::npos);
    CHECK_NOTHROW(parse_sources("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ndates = [\"2020-02-29\", \"\"]\n", "s.toml"));
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nbands = [99999999999, 2, 1]\n").find("1-based band numbers") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"stac\"\napi = \"https://h/\"\ncollection = \"c\"\nassets = [\"v\"]\ngsd = 1\nbands = [3, 2, 4294967297]\n")
              .find("1-based band numbers") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ngsd = 1e-300\n").find("gsd must be") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nstretch = [5, 1]\n").find("stretch must be") != std::string::npos);
    // A box whose corners were swapped read as crossing the antimeridian the long way (359.8 degrees), and one of no width (red-team round 29).
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ncoverage = [7.5, 43.7, 7.3, 43.8]\n").find("west and east swapped?") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ncoverage = [7, 43, 7, 44]\n").find("covers no longitude") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ncoverage = [180, -90, -180, 90]\n").find("covers no longitude") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ncoverage = [100, -60, -60, 60]\n").empty()); // a Pacific box of 200 degrees (red-team round 30)
    // A span that overflows a double (red-team round 29: every image black).
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nstretch = [-1e308, 1e308]\n").find("stretch must be") != std::string::npos);
}

TEST_CASE("sources that would misname their images or hand out a token are refused as read (red-team round 29, left then)") {
    // A year the dates exclude: every image named for a year its pixels are not from.
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nyear = 2019\ndates = [\"2020-01-01\", \"2020-12-31\"]\n")
              .find("year 2019 is outside `dates` (2020-01-01 to 2020-12-31)") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nyear = 2024\ndates = [\"\", \"2021-06-30\"]\n").find("year 2024 is outside") !=
          std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nyear = 2020\ndates = [\"2020-03-01\", \"\"]\n").empty());
    // {y} beside {-y}: the source is TMS, which turns {y} over too.
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{z}/{x}/{y}.png?b={-y}\"\ngsd = 1\n").find("both {y} and {-y}") != std::string::npos);
    // The storage token: from an https token_url (or a loopback test server), to the storage's own hosts.
    const std::string stac = "[[source]]\nalias = \"A\"\nkind = \"stac\"\napi = \"https://h/\"\ncollection = \"c\"\nassets = [\"v\"]\ngsd = 1\n"
                             "sign = \"planetary-computer\"\n";
    CHECK(error_of(stac + "token_url = \"http://tokens.example.com/sas\"\n").find("token_url must be an https:// address") != std::string::npos);
    CHECK(error_of(stac + "token_url = \"https://user:pw@tokens.example.com/sas\"\n").find("token_url must be an https:// address") != std::string::npos);
    CHECK(error_of(stac + "token_url = \"https://tokens.example.com/sas\"\n").empty());
    CHECK(error_of(stac + "token_url = \"http://127.0.0.1:8080/sas\"\n").empty());
    CHECK(error_of(stac + "sign_hosts = [\"*.com\"]\n").find("every host of a top-level domain") != std::string::npos);
    CHECK(error_of(stac + "sign_hosts = [\"*.blob.core.windows.net\", \"storage.example.com\"]\n").empty());
}

TEST_CASE("sources files: every key of every kind is known and of the right type, or an error names file, line and key") {
    const std::string gdal = "[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x.tif\"\n";   // lines 1-4
    const std::string xyz = "[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{z}/{x}/{y}\"\ngsd = 1\n"; // lines 1-5
    const std::string ee = "[[source]]\nalias = \"A\"\nkind = \"earthengine\"\ncollection = \"C\"\ngsd = 10\nbands = [\"B4\", \"B3\", \"B2\"]\n"; // 1-6
    // Typos: the key, its line, and the nearest known key.
    CHECK(error_of(gdal + "strech = [0, 3000]\n") == "s.toml:5: source 1 (A): unknown key `strech` (did you mean `stretch`?)");
    CHECK(error_of(gdal + "coverge = [0, 0, 1, 1]\n") == "s.toml:5: source 1 (A): unknown key `coverge` (did you mean `coverage`?)");
    CHECK(error_of(xyz + "max_zom = 18\n") == "s.toml:6: source 1 (A): unknown key `max_zom` (did you mean `max_zoom`?)");
    CHECK(error_of(ee + "\ncloud_propery = \"CLOUDY\"\n") == "s.toml:8: source 1 (A): unknown key `cloud_propery` (did you mean `cloud_property`?)");
    CHECK(error_of(gdal + "colour = \"red\"\n") == "s.toml:5: source 1 (A): unknown key `colour`");
    // A key of another kind.
    CHECK(error_of(gdal + "url = \"http://h/{z}/{x}/{y}\"\n") == "s.toml:5: source 1 (A): `url` is not a key of gdal sources");
    CHECK(error_of(xyz + "collection = \"C\"\n") == "s.toml:6: source 1 (A): `collection` is not a key of xyz sources");
    CHECK(error_of(xyz + "stretch = [0, 3000]\n") == "s.toml:6: source 1 (A): `stretch` is not a key of xyz sources");
    CHECK(error_of(gdal + "max_in_flight = 4\n") == "s.toml:5: source 1 (A): `max_in_flight` is not a key of gdal sources");
    CHECK(error_of("sorce = 1\n" + gdal) == "s.toml:1: unknown top-level key `sorce` (a sources file holds [[source]] tables only) (did you mean `source`?)");
    // Wrong types, each with its line.
    struct Bad {
        std::string toml, message;
    };
    for (const auto& b : {Bad{xyz + "requests_per_second = \"fast\"\n", "s.toml:6: source 1 (A): `requests_per_second` must be a number"},
                          Bad{xyz + "max_in_flight = 2.5\n", "s.toml:6: source 1 (A): `max_in_flight` must be a whole number"},
                          Bad{xyz + "tms = \"yes\"\n", "s.toml:6: source 1 (A): `tms` must be true or false"},
                          Bad{xyz + "tile_px = \"512\"\n", "s.toml:6: source 1 (A): `tile_px` must be a whole number"},
                          Bad{xyz + "max_zoom = 17.5\n", "s.toml:6: source 1 (A): `max_zoom` must be a whole number"},
                          Bad{gdal + "gsd = \"1\"\n", "s.toml:5: source 1 (A): `gsd` must be a number"},
                          Bad{gdal + "year = 2020.5\n", "s.toml:5: source 1 (A): `year` must be a whole number"},
                          Bad{gdal + "year = \"2020\"\n", "s.toml:5: source 1 (A): `year` must be a whole number"},
                          Bad{gdal + "licence = 5\n", "s.toml:5: source 1 (A): `licence` must be a string"},
                          Bad{gdal + "coverage = \"world\"\n", "s.toml:5: source 1 (A): coverage: world: no such file"},
                          Bad{gdal + "coverage = [0, \"0\", 1, 1]\n", "s.toml:5: source 1 (A): coverage must be [west, south, east, north] numbers"},
                          Bad{gdal + "stretch = [0, \"3000\"]\n", "s.toml:5: source 1 (A): stretch must be [min, max] with max > min (and max - min a finite number)"},
                          Bad{gdal + "bands = [3, 2.5, 1]\n", "s.toml:5: source 1 (A): bands of a gdal source are 1-based band numbers, e.g. [3, 2, 1]"},
                          Bad{gdal + "bands = [\"red\", \"green\", \"blue\"]\n", "s.toml:5: source 1 (A): bands of a gdal source are 1-based band numbers, e.g. [3, 2, 1]"},
                          Bad{gdal + "bands = [0, 1, 2]\n", "s.toml:5: source 1 (A): bands of a gdal source are 1-based band numbers, e.g. [3, 2, 1]"},
                          Bad{gdal + "bands = \"3,2,1\"\n", "s.toml:5: source 1 (A): `bands` must be an array of 1-based band numbers"},
                          Bad{"[[source]]\nalias = \"A\"\nkind = \"earthengine\"\ncollection = \"C\"\ngsd = 10\nbands = [4, 3, 2]\n",
                              "s.toml:6: source 1 (A): bands of an earthengine source are band names, e.g. [\"B4\", \"B3\", \"B2\"]"},
                          Bad{gdal + "dates = [2020, 2021]\n", "s.toml:5: source 1 (A): dates must be [\"YYYY-MM-DD\", \"YYYY-MM-DD\"] (\"\" for open)"},
                          Bad{"[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = 7\n", "s.toml:4: source 1 (A): `path` must be a string"},
                          Bad{"[[source]]\nalias = 1\nkind = \"gdal\"\npath = \"x\"\n", "s.toml:2: source 1: `alias` must be a string"},
                          Bad{ee + "project = 12\n", "s.toml:7: source 1 (A): `project` must be a string"},
                          Bad{ee + "endpoint = true\n", "s.toml:7: source 1 (A): `endpoint` must be a string"},
                          Bad{ee + "requests_per_second = 0\n", "s.toml:7: source 1 (A): requests_per_second must be a number from 0.001 (a request in about 17 minutes) up"},
                          // Positive but a build that never ends (before: 1e-300 passed, and the fetch waited for ever).
                          Bad{ee + "requests_per_second = 1e-300\n", "s.toml:7: source 1 (A): requests_per_second must be a number from 0.001 (a request in about 17 minutes) up"},
                          Bad{ee + "requests_per_second = inf\n", "s.toml:7: source 1 (A): `requests_per_second` must be a number"},
                          Bad{ee + "max_in_flight = 0\n", "s.toml:7: source 1 (A): max_in_flight must be 1..10000"}}) {
        INFO(b.toml);
        CHECK(error_of(b.toml) == b.message);
    }
    // Right types pass: integers where numbers are asked, every key of each kind.
    const auto ok = parse_sources(xyz + "requests_per_second = 20\nmax_in_flight = 4\ntms = true\ntile_px = 512\nmax_zoom = 18\n"
                                        "year = 2020\ncoverage = [1, 2, 3, 4]\ndates = [\"2020-01-01\", \"\"]\nlicence = \"L\"\n",
                                  "s.toml");
    CHECK(parse_sources(gdal + "gsd = 1\nbands = [3, 2, 1]\nstretch = [0, 2047]\nyear = 2020\ncoverage = [1, 2, 3, 4]\n", "s.toml")[0].bands ==
          std::vector<std::string>{"3", "2", "1"});
    CHECK(ok[0].requests_per_second == 20);
    CHECK(ok[0].max_in_flight == 4);
    CHECK(ok[0].settings_as<XyzSettings>().tms);
    CHECK(ok[0].coverage_given);
    CHECK(parse_sources(ee + "project = \"p\"\nendpoint = \"http://127.0.0.1:1\"\ncloud_property = \"C\"\nrequests_per_second = 2.5\n", "s.toml")[0].settings_as<EarthEngineSettings>().endpoint ==
          "http://127.0.0.1:1");
    CHECK_FALSE(parse_sources(gdal, "s.toml")[0].coverage_given);
    // The built-in file passes the same checks.
    CHECK(builtin_sources().size() == 10);
}

TEST_CASE("a Web Mercator raster's native GSD is its pixels' size on the ground, not in mercator metres") {
    // dop-rgb.tif (1.67 m pixels, UTM 32N at 53.5 N) warped to EPSG:3857 by gdalwarp, pixels of
    // the same ground size: GDAL gives them ~2.80 mercator metres (1/cos 53.5), and the plan took
    // that as the GSD (a helper's review: most objects then skipped as too coarse for their tag).
    const auto dir = fresh_dir("sources-mercator");
    const auto warped = run("gdalwarp -q -t_srs EPSG:3857 " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/dop-3857.tif"));
    INFO(warped.err);
    REQUIRE(warped.exit_code == 0);
    const auto gsd_of = [](const std::string& path) {
        auto s = parse_sources("[[source]]\nalias = \"G\"\nkind = \"gdal\"\npath = \"" + path + "\"\n", "s.toml");
        resolve_from_data(s[0]);
        return s[0].gsd;
    };
    const double utm = gsd_of(data("imagery/dop-rgb.tif")), mercator = gsd_of(dir + "/dop-3857.tif");
    CHECK(utm == doctest::Approx(1.6667).epsilon(1e-3));
    CHECK(mercator == doctest::Approx(utm).epsilon(0.03)); // gdalwarp keeps the ground size within a few percent
    // In US survey feet (State Plane orthophotos; red-team round 36): before, 3.28 "m", the pixel size in feet taken for metres.
    const auto feet = run("gdalwarp -q -t_srs '+proj=utm +zone=32 +datum=WGS84 +units=us-ft +no_defs' " + sh_quote(data("imagery/dop-rgb.tif")) + " " +
                          sh_quote(dir + "/dop-feet.tif"));
    INFO(feet.err);
    REQUIRE(feet.exit_code == 0);
    CHECK(gsd_of(dir + "/dop-feet.tif") == doctest::Approx(utm).epsilon(1e-3));
}

TEST_CASE("a gdal source without coverage takes the raster's own footprint, not the whole world") {
    auto s = parse_sources("[[source]]\nalias = \"DOP\"\nkind = \"gdal\"\npath = \"" + data("imagery/dop-rgb.tif") + "\"\n", "s.toml");
    REQUIRE(s.size() == 1);
    resolve_from_data(s[0]);
    CHECK(s[0].coverage_given);
    // gdalinfo's WGS84 extent of dop-rgb.tif (a ~1 km UTM 32N COG near Stade)
    const auto info = run("gdalinfo -json " + sh_quote(data("imagery/dop-rgb.tif")) + " | /usr/bin/python3 -c "
                          "'import json,sys; c=json.load(sys.stdin)[\"wgs84Extent\"][\"coordinates\"][0]; "
                          "print(min(p[0] for p in c), min(p[1] for p in c), max(p[0] for p in c), max(p[1] for p in c))'");
    REQUIRE(info.exit_code == 0);
    double w = 0, south = 0, e = 0, n = 0;
    REQUIRE(std::sscanf(info.out.c_str(), "%lf %lf %lf %lf", &w, &south, &e, &n) == 4);
    CHECK(s[0].coverage.west == doctest::Approx(w).epsilon(1e-5));
    CHECK(s[0].coverage.south == doctest::Approx(south).epsilon(1e-5));
    CHECK(s[0].coverage.east == doctest::Approx(e).epsilon(1e-5));
    CHECK(s[0].coverage.north == doctest::Approx(n).epsilon(1e-5));
    CHECK(s[0].covers(9.505, 53.513));
    CHECK_FALSE(s[0].covers(10, 50));
    CHECK(s[0].gsd > 0); // the native GSD when `gsd` is not set
    // A given coverage stays; a missing raster is an error naming it.
    auto given = parse_sources("[[source]]\nalias = \"G\"\nkind = \"gdal\"\npath = \"/nonexistent.tif\"\ngsd = 1\ncoverage = [1, 2, 3, 4]\n", "s.toml");
    resolve_from_data(given[0]);
    CHECK(given[0].coverage.east == 3);
    auto missing = parse_sources("[[source]]\nalias = \"M\"\nkind = \"gdal\"\npath = \"/nonexistent.tif\"\n", "s.toml");
    try {
        resolve_from_data(missing[0]);
        FAIL("no error");
    } catch (const std::exception& ex) {
        CHECK(std::string(ex.what()).find("/nonexistent.tif") != std::string::npos);
    }
}

TEST_CASE("`sources` lists every source with its status and reason") {
    const auto dir = fresh_dir("sources_cmd");
    write_file(dir + "/s.toml", "[[source]]\nalias = \"DOP\"\nkind = \"gdal\"\npath = \"" + data("imagery/dop-rgb.tif") +
                                    "\"\n[[source]]\nalias = \"GONE\"\nkind = \"gdal\"\npath = \"" + dir + "/gone.tif\"\ngsd = 1\n");
    const auto r = run(sh_quote(binary()) + " sources --check --sources " + sh_quote(dir + "/s.toml"));
    CHECK(r.exit_code == 1); // one source cannot be used
    const auto l = lines(r.out);
    REQUIRE(l.size() == 3);
    CHECK(l[1].find("usable: 3 band(s) Byte") != std::string::npos);
    CHECK(l[2].find("not usable: " + dir + "/gone.tif") != std::string::npos);
    CHECK(lines(r.err) == std::vector<std::string>{"skyscript-build: source GONE (gdal) is " + l[2].substr(l[2].find("not usable: "))});
    const auto ee = run("env -u GOOGLE_APPLICATION_CREDENTIALS " + sh_quote(binary()) + " sources");
    CHECK(lines(ee.out).size() == 16); // the header, ten sources, and the polygon line of each of the five national ones
    CHECK(ee.out.find("set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file") != std::string::npos);
    CHECK(ee.exit_code == 1);
    CHECK(lines(ee.err).size() == 10); // each of the ten built-in sources, by name
    const auto bad = run(sh_quote(binary()) + " sources --sources " + sh_quote(dir + "/missing.toml"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err == "skyscript-build: error: " + dir + "/missing.toml: cannot open sources file (no such file)\n");
    // A device, a FIFO, a folder: said at once (red-team round 33: /dev/zero was read into
    // memory for ever, 5 GB in 8 s, and a FIFO blocked), by the tools that read sources
    // without the build's option check too.
    REQUIRE(run("mkfifo " + sh_quote(dir + "/fifo.toml")).exit_code == 0);
    for (const auto& [file, why] : std::vector<std::pair<std::string, std::string>>{{"/dev/zero", "is a pipe or a device, not a file"},
                                                                                    {"/dev/urandom", "is a pipe or a device, not a file"},
                                                                                    {dir + "/fifo.toml", "is a pipe or a device, not a file"},
                                                                                    {dir, "is a directory, not a file"}}) {
        for (const std::string& command :
             std::vector<std::string>{"sources --sources ", "sources --check --sources ", "fetch-one --source X --center 7.42,43.73 --side-m 384 --gsd 1 -o " + dir + "/x.jpg --sources ",
                                      "extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q -o " + dir + "/extract --read-sample on --sources "}) {
            const auto r = run("timeout 20 " + sh_quote(binary()) + " " + command + sh_quote(file));
            INFO(command << file);
            CHECK(r.exit_code == 1);
            CHECK(r.err == "skyscript-build: error: " + file + ": cannot open sources file (" + why + (why.starts_with("is a pipe") ? "; a later run reads it again: save it to a file" : "") + ")\n");
        }
    }
}

namespace {

// `sources` [--check] over `toml`, with GOOGLE_APPLICATION_CREDENTIALS set to `key` ("" = unset).
CommandResult sources_command(const std::string& dir, const std::string& toml, const std::string& key, bool check) {
    write_file(dir + "/s.toml", toml);
    return run((key.empty() ? std::string("env -u GOOGLE_APPLICATION_CREDENTIALS ") : "GOOGLE_APPLICATION_CREDENTIALS=" + sh_quote(key) + " ") +
               "timeout 60 " + sh_quote(binary()) + " sources" + (check ? " --check" : "") + " --sources " + sh_quote(dir + "/s.toml"));
}

} // namespace

TEST_CASE("sources exits 1 naming each source that cannot be used and why, with or without --check; 0 only when all can") {
    const auto dir = fresh_dir("sources_exit");
    const std::string dop = "[[source]]\nalias = \"DOP\"\nkind = \"gdal\"\npath = \"" + data("imagery/dop-rgb.tif") + "\"\n";
    const std::string ee = "[[source]]\nalias = \"S2T\"\nkind = \"earthengine\"\ncollection = \"C\"\nproject = \"p\"\ngsd = 10\n"
                           "bands = [\"B4\", \"B3\", \"B2\"]\nendpoint = \"http://127.0.0.1:1\"\n";
    // Everything usable: 0, nothing on stderr.
    for (bool check : {false, true}) {
        const auto ok = sources_command(dir, dop, "", check);
        INFO(ok.err);
        CHECK(ok.exit_code == 0);
        CHECK(ok.err.empty());
    }
    // Credentials that cannot work, known without the network: the same with and without --check.
    std::filesystem::create_directories(dir + "/keydir");
    write_file(dir + "/notjson.json", "this is not json\n");
    ::unlink((dir + "/fifo").c_str());
    REQUIRE(::mkfifo((dir + "/fifo").c_str(), 0600) == 0); // opened, it would wait for a writer
    write_file(dir + "/nokey.json", R"({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:1/token"})");
    write_file(dir + "/badpem.json", R"({"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"})");
    struct Bad {
        std::string key, why;
    };
    for (const auto& b : {Bad{"", "no Earth Engine credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"},
                          Bad{dir + "/missing.json", dir + "/missing.json: cannot read the service-account key file"},
                          Bad{dir + "/keydir", dir + "/keydir: is a directory, not a service-account key file"},
                          Bad{dir + "/fifo", dir + "/fifo: is a pipe or a device, not a service-account key file"},
                          Bad{dir + "/notjson.json", dir + "/notjson.json: not a JSON service-account key file"},
                          Bad{dir + "/nokey.json", dir + "/nokey.json: the service-account key has no `private_key`"},
                          Bad{dir + "/badpem.json", dir + "/badpem.json: the private_key is not a PEM private key"}})
        for (bool check : {false, true}) {
            const auto r = sources_command(dir, dop + ee, b.key, check);
            INFO(b.key << (check ? " --check" : ""));
            CHECK(r.exit_code == 1);
            CHECK(lines(r.err) == std::vector<std::string>{"skyscript-build: source S2T (earthengine) is not usable: " + b.why});
            CHECK(r.out.find("not usable: " + b.why) != std::string::npos);
        }
    // A raster that is missing or a directory, known without the network too.
    std::filesystem::create_directories(dir + "/raster.tif");
    for (const auto& [path, why] : {std::pair<std::string, std::string>{dir + "/gone.tif", dir + "/gone.tif is not readable"},
                                    {dir + "/raster.tif", dir + "/raster.tif is a directory, not a raster"},
                                    {dir + "/fifo", dir + "/fifo is a pipe or a device, not a raster"}}) {
        const auto r = sources_command(dir, dop + "[[source]]\nalias = \"G\"\nkind = \"gdal\"\npath = \"" + path + "\"\ngsd = 1\n", "", false);
        CHECK(r.exit_code == 1);
        CHECK(lines(r.err) == std::vector<std::string>{"skyscript-build: source G (gdal) is not usable: " + why});
    }
    // An xyz endpoint nobody answers: only --check can know, and says so.
    const std::string xyz = "[[source]]\nalias = \"X\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:1/{z}/{x}/{y}.png?key=K3Y\"\ngsd = 10000\n"
                            "max_zoom = 3\ncoverage = [0, 0, 1, 1]\n"; // z3: 20 km pixels there
    CHECK(sources_command(dir, dop + xyz, "", false).exit_code == 0);
    const auto down = sources_command(dir, dop + xyz, "", true);
    CHECK(down.exit_code == 1);
    REQUIRE(lines(down.err).size() == 1);
    CHECK(down.err.starts_with("skyscript-build: source X (xyz) is not usable: http://127.0.0.1:1/3/4/3.png?key=REDACTED: Couldn't connect to server"));
    CHECK(down.out.find("K3Y") == std::string::npos);
    // Bands no tile can be read from (red-team round 36): an unlabelled 2-band raster had passed
    // --check as "usable", then failed every job of the build. Refused by --check, and by the
    // fetch at the source's opening, in one line, its jobs left planned; `bands` mends it.
    REQUIRE(run("gdal_create -q -of GTiff -co COMPRESS=DEFLATE -co TILED=YES -outsize 2800 3300 -bands 2 -burn 100 -a_srs EPSG:4326 -a_ullr 7.405 43.753 7.44 43.723 " +
                sh_quote(dir + "/two.tif")).exit_code == 0);
    const std::string two = "[[source]]\nalias = \"T\"\nkind = \"gdal\"\npath = \"" + dir + "/two.tif\"\nyear = 2021\n";
    const std::string unlabelled = dir + "/two.tif: its bands are not labelled red, green and blue (bands: 1 Gray, 2 Undefined)";
    const auto two_check = sources_command(dir, two, "", true);
    CHECK(two_check.exit_code == 1);
    CHECK_MESSAGE(two_check.err.starts_with("skyscript-build: source T (gdal) is not usable: " + unlabelled), two_check.err);
    const auto build = run(sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/two-out") +
                           " --sources " + sh_quote(dir + "/s.toml") + " --limit 50 -q");
    CHECK(build.exit_code == 1);
    // The source stopped, naming why; then the build's end: nothing written, the jobs planned.
    REQUIRE(lines(build.err).size() == 2);
    CHECK(lines(build.err)[0].starts_with("fetch: source T stopped: it could not be opened: "));
    CHECK(lines(build.err)[0].find(unlabelled) != std::string::npos);
    CHECK(lines(build.err)[1].find(": no image was written: the fetch stopped with ") != std::string::npos);
    CHECK(sql_int(dir + "/two-out/state.sqlite", "SELECT count(*) FROM jobs WHERE status != 'planned'") == 0);
    CHECK(sources_command(dir, two + "bands = [1, 1, 2]\n", "", true).exit_code == 0);
}

TEST_CASE("GDAL_HTTP_UNSAFESSL, which turns off TLS verification for remote rasters, is never silent") {
    const auto dir = fresh_dir("sources_unsafessl");
    const auto r = run("GDAL_HTTP_UNSAFESSL=YES " + fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) +
                       " --center 9.505,53.513 --side-m 50 --gsd 1 -o " + sh_quote(dir + "/t.jpg"));
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("WARNING: GDAL_HTTP_UNSAFESSL is set: TLS certificates of remote rasters are NOT verified") != std::string::npos);
    CHECK(run(fetch_one_command() + " --raster " + sh_quote(data("imagery/dop-rgb.tif")) + " --center 9.505,53.513 --side-m 50 --gsd 1 -o " +
              sh_quote(dir + "/t.jpg")).err.empty());
}

TEST_CASE("a WMTS source's tiles are asked with the server's certificate verified, whichever way it is named; a description of the user's that turns that off is warned of (red-team round 38)") {
    // GDAL 3.6's WMTS driver writes <UnsafeSSL>true</UnsafeSSL> into the description it makes of a
    // WMTS: name or a capabilities document: a self-signed tile server's imagery was taken.
    const auto dir = fresh_dir("sources_wmts_tls");
    REQUIRE(run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                sh_quote(dir + "/key.pem") + " -out " + sh_quote(dir + "/cert.pem") + " 2>/dev/null")
                .exit_code == 0);
    const ServerProcess tiles({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles", "--tls",
                               dir + "/cert.pem", dir + "/key.pem"});
    std::string matrices;
    for (int z = 0; z <= 18; ++z)
        matrices += "<TileMatrix><ows:Identifier>" + std::to_string(z) + "</ows:Identifier><ScaleDenominator>" + std::to_string(559082264.0287178 / (1 << z)) +
                    "</ScaleDenominator><TopLeftCorner>-20037508.3427892 20037508.3427892</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight>"
                    "<MatrixWidth>" + std::to_string(1 << z) + "</MatrixWidth><MatrixHeight>" + std::to_string(1 << z) + "</MatrixHeight></TileMatrix>";
    std::filesystem::create_directories(dir + "/caps");
    // Every tile the same real one, over https from the self-signed server.
    write_file(dir + "/caps/WMTSCapabilities.xml",
               "<?xml version=\"1.0\"?><Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" xmlns:ows=\"http://www.opengis.net/ows/1.1\" version=\"1.0.0\"><Contents>"
               "<Layer><ows:Title>t</ows:Title><ows:Identifier>lay</ows:Identifier><ows:WGS84BoundingBox><ows:LowerCorner>-180 -85</ows:LowerCorner>"
               "<ows:UpperCorner>180 85</ows:UpperCorner></ows:WGS84BoundingBox><Style isDefault=\"true\"><ows:Identifier>default</ows:Identifier></Style>"
               "<Format>image/jpeg</Format><TileMatrixSetLink><TileMatrixSet>g</TileMatrixSet></TileMatrixSetLink><ResourceURL format=\"image/jpeg\" "
               "resourceType=\"tile\" template=\"https://127.0.0.1:" + std::to_string(tiles.port()) +
               "/xyz/17/62093/50163.jpg?{TileMatrix}/{TileCol}/{TileRow}\"/></Layer><TileMatrixSet><ows:Identifier>g</ows:Identifier>"
               "<ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>" + matrices + "</TileMatrixSet></Contents></Capabilities>\n");
    const ServerProcess caps({"python3", source_dir() + "/tests/http_test_server.py", "--root", dir + "/caps"});
    const auto caps_url = caps.url("/xyz/WMTSCapabilities.xml");
    const auto fetch = [&](const std::string& raster) {
        return run(fetch_one_command() + " --attempts 1 --raster " + sh_quote(raster) + " --center 7.42,43.735 --side-m 100 --gsd 1 -o " + sh_quote(dir + "/t.jpg"));
    };
    for (const auto& raster : {"WMTS:" + caps_url, "WMTS:" + caps_url + ",layer=lay", dir + "/caps/WMTSCapabilities.xml"}) {
        INFO(raster);
        const auto r = fetch(raster);
        CHECK(r.exit_code == 1); // before: 0, the untrusted server's tile in the image
        CHECK_MESSAGE(r.err.find("certificate") != std::string::npos, r.err);
    }
    // A GDAL_WMTS description of the user's: its own setting, warned of when it is true.
    const std::string description = "<GDAL_WMTS><GetCapabilitiesUrl>" + caps_url + "</GetCapabilitiesUrl>";
    CHECK(fetch(description + "</GDAL_WMTS>").exit_code == 1);
    const auto unsafe = fetch(description + "<UnsafeSSL>true</UnsafeSSL></GDAL_WMTS>");
    CHECK_MESSAGE(unsafe.exit_code == 0, unsafe.err);
    CHECK(unsafe.err.find("WARNING: an inline description sets <UnsafeSSL>true</UnsafeSSL>: TLS certificates of its server are NOT verified") != std::string::npos);
    // So is one in a file, as `gdal_translate -of WMTS` writes it (review of round 38: only an inline one was).
    write_file(dir + "/layer.xml", description + "<UnsafeSSL>true</UnsafeSSL></GDAL_WMTS>\n");
    const auto unsafe_file = fetch(dir + "/layer.xml");
    CHECK_MESSAGE(unsafe_file.exit_code == 0, unsafe_file.err);
    CHECK(unsafe_file.err.find("WARNING: " + dir + "/layer.xml sets <UnsafeSSL>true</UnsafeSSL>") != std::string::npos);
    // A WMTS layer as a VRT's member is opened by GDAL itself, checks off: refused in one line.
    const auto vrt = dir + "/clip.vrt";
    write_file(vrt, "<VRTDataset rasterXSize=\"256\" rasterYSize=\"256\"><SRS>EPSG:3857</SRS><GeoTransform>826000, 1, 0, 5423000, 0, -1</GeoTransform>"
                    "<VRTRasterBand dataType=\"Byte\" band=\"1\"><SimpleSource><SourceFilename relativeToVRT=\"0\">WMTS:" + caps_url +
                    "</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>\n");
    const auto member = fetch(vrt);
    CHECK(member.exit_code == 1); // before: its tiles asked without checks
    CHECK(member.err.find("is a WMTS layer, which GDAL would ask with TLS certificate checks off inside a VRT") != std::string::npos);
    // Judged by their contents, whatever their names (red-team round 40): capabilities not named
    // .xml, or with a prefixed root; a VRT not named .vrt, given itself or as a member.
    auto prefixed = read_file(dir + "/caps/WMTSCapabilities.xml");
    prefixed.replace(prefixed.find("<Capabilities xmlns="), 20, "<wmts:Capabilities xmlns:wmts=");
    prefixed.replace(prefixed.rfind("</Capabilities>"), 15, "</wmts:Capabilities>");
    write_file(dir + "/prefixed.xml", prefixed);
    std::filesystem::copy_file(dir + "/caps/WMTSCapabilities.xml", dir + "/caps.txt");
    auto vrt_text = read_file(vrt);
    const auto wmts_member = "WMTS:" + caps_url;
    const auto with_member = [&](const std::string& m) {
        auto t = vrt_text;
        t.replace(t.find(wmts_member), wmts_member.size(), m);
        return t;
    };
    write_file(dir + "/prefixed.vrt", with_member(dir + "/prefixed.xml"));
    write_file(dir + "/txt-caps.vrt", with_member(dir + "/caps.txt"));
    write_file(dir + "/inner.txt", vrt_text);
    write_file(dir + "/outer.vrt", with_member(dir + "/inner.txt"));
    for (const auto& raster : {dir + "/prefixed.vrt", dir + "/txt-caps.vrt", dir + "/inner.txt", dir + "/outer.vrt"}) {
        INFO(raster);
        const auto r = fetch(raster);
        CHECK(r.exit_code == 1); // before: 0, the self-signed server's tile in the image
        CHECK(r.err.find("is a WMTS layer, which GDAL would ask with TLS certificate checks off inside a VRT") != std::string::npos);
    }
    // A parameter a WMTS: name does not take: one line naming it.
    const auto unknown = fetch("WMTS:" + caps_url + ",lyer=lay");
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("`lyer=lay` is no parameter of a WMTS: name") != std::string::npos);
}

TEST_CASE("GDAL's own HTTP (a /vsicurl/ raster) is held to --timeout: a stalled server fails the tile, it does not hang") {
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("sources_gdal_timeout");
    const auto start = std::chrono::steady_clock::now();
    // No GDAL_HTTP_TIMEOUT in the environment: the command's --timeout is what bounds it.
    const auto r = run("env -u GDAL_HTTP_TIMEOUT -u GDAL_HTTP_CONNECTTIMEOUT " + sh_quote(binary()) + " fetch-one --timeout 1 --attempts 1 --raster " +
                       sh_quote("/vsicurl/" + server.url("/f/slow-60000/99/xyz/dop.tif")) + " --center 9.505,53.513 --side-m 50 --gsd 1 -o " +
                       sh_quote(dir + "/t.jpg"));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(seconds < 15);
    CHECK(r.err.find("timed out after 1") != std::string::npos); // GDAL's CURL error: "Operation timed out after 1002 milliseconds"
}

TEST_CASE("a WMS that answers and then sends nothing is held to --timeout too (round 36)") {
    // GDAL 3.6's WMS driver takes its request timeout from the XML's <Timeout> alone (300 s a
    // block): before, this fetch-one was still waiting when `timeout 90` killed it (exit 124).
    const ServerProcess server({"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"});
    const auto dir = fresh_dir("sources_wms_stall");
    write_file(dir + "/wms.xml", "<GDAL_WMS><Service name=\"WMS\"><Version>1.1.1</Version><ServerUrl>" + server.url("/f/stall-80000/99/wms?") +
                                     "</ServerUrl><SRS>EPSG:4326</SRS><ImageFormat>image/png</ImageFormat><Layers>x</Layers></Service>"
                                     "<DataWindow><UpperLeftX>7.40</UpperLeftX><UpperLeftY>43.76</UpperLeftY><LowerRightX>7.45</LowerRightX>"
                                     "<LowerRightY>43.72</LowerRightY><SizeX>8000</SizeX><SizeY>8000</SizeY></DataWindow><BandsCount>3</BandsCount>"
                                     "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY></GDAL_WMS>\n");
    const auto start = std::chrono::steady_clock::now();
    const auto r = run("timeout 90 env -u GDAL_HTTP_TIMEOUT -u GDAL_HTTP_LOW_SPEED_TIME " + sh_quote(binary()) + " fetch-one --timeout 2 --attempts 1 --raster " +
                       sh_quote(dir + "/wms.xml") + " --center 7.42,43.735 --side-m 100 --gsd 0.5 -o " + sh_quote(dir + "/t.jpg"));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(seconds < 60);
    CHECK(r.err.find("Less than 1 bytes/sec transferred the last 2 seconds") != std::string::npos);
    CHECK(lines(r.err).size() == 1);
}

TEST_CASE("the open presets: Planetary Computer, Earth Search and swisstopo through the stac kind, off by default, `--sources open`") {
    const auto open = open_sources();
    std::map<std::string, const SourceConfig*> by;
    for (const auto& s : open) by[s.alias] = &s;
    REQUIRE(by.size() == 5);
    for (const auto& s : open) CHECK(s.kind->name() == "stac");
    CHECK(by.at("NAIP")->settings_as<StacSettings>().collection == "naip");
    CHECK(by.at("NAIP")->settings_as<StacSettings>().sign == "planetary-computer");
    CHECK(by.at("NAIP")->covers(-87.63, 41.88));  // Chicago: builtin:us
    CHECK_FALSE(by.at("NAIP")->covers(-79.38, 43.65)); // Toronto
    CHECK(by.at("S2E84")->settings_as<StacSettings>().api == "https://earth-search.aws.element84.com/v1");
    CHECK(by.at("S2E84")->settings_as<StacSettings>().sign.empty()); // Earth Search's COGs are public
    CHECK(by.at("LC2")->settings_as<StacSettings>().assets == std::vector<std::string>{"red", "green", "blue"});
    CHECK(by.at("SWISS10")->settings_as<StacSettings>().collection == "ch.swisstopo.swissimage-dop10");
    CHECK(by.at("SWISS10")->settings_as<StacSettings>().assets == std::vector<std::string>{"*_0.1_2056.tif"}); // per-item keys
    CHECK(by.at("SWISS10")->covers(7.44, 46.95));      // Bern
    CHECK_FALSE(by.at("SWISS10")->covers(6.14, 46.0)); // Annecy
    CHECK(open.front().alias == "SWISS10");            // finest first
    for (const auto& s : builtin_sources()) CHECK(s.kind->name() == "earthengine"); // off by default

    const auto listed = run(sh_quote(binary()) + " sources --sources open");
    CHECK(listed.exit_code == 0);
    for (const char* alias : {"SWISS10", "NAIP", "S2PC", "S2E84", "LC2"}) CHECK(listed.out.find(alias) != std::string::npos);
    // A file named `open` in the working folder is read as a file, not as the presets.
    const auto dir = fresh_dir("sources-open-file");
    write_file(dir + "/open", "[[source]]\nalias = \"MINE\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 1\nyear = 2020\n");
    const auto mine = run("cd " + sh_quote(dir) + " && " + sh_quote(binary()) + " sources --sources open");
    CHECK(mine.out.find("MINE") != std::string::npos);
    CHECK(mine.out.find("NAIP") == std::string::npos);
}
