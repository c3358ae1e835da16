// The sources TOML: the built-in SkyScript defaults, validation with file and line,
// and `skyscript-build sources`.

#include "source_config.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

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
        CHECK(s[i].kind == SourceKind::earthengine);
        CHECK(s[i].collection == expected[i].collection);
        CHECK(s[i].gsd == expected[i].gsd);
        CHECK(s[i].bands.size() == 3);
        CHECK(s[i].stretch.has_value());
        CHECK_FALSE(s[i].licence.empty());
    }
    CHECK(s[0].covers(8.5, 47.0));       // Switzerland
    CHECK_FALSE(s[0].covers(2.3, 48.9)); // Paris
    CHECK(s[7].bands == std::vector<std::string>{"B4", "B3", "B2"});
    CHECK(s[7].stretch->second == 3000);
    CHECK(s[7].cloud_property == "CLOUDY_PIXEL_PERCENTAGE");
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
    CHECK(s[1].tms);
    CHECK(s[1].tile_px == 512);
    CHECK(s[1].covers(175, 0));
    CHECK(s[1].covers(-175, 0));
    CHECK_FALSE(s[1].covers(0, 0));
}

TEST_CASE("bad sources files: one message naming file, line and source") {
    CHECK(error_of("[[source]\n") .starts_with("s.toml:1: "));
    CHECK(error_of("x = 1\n") == "s.toml: no [[source]] table");
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"wms\"\n") == "s.toml:1: source 1 (A): kind must be earthengine, gdal or xyz, got `wms`");
    CHECK(error_of("[[source]]\nkind = \"gdal\"\npath = \"x\"\n") == "s.toml:1: source 1: needs `alias`");
    CHECK(error_of("[[source]]\nalias = \"A_B\"\nkind = \"gdal\"\npath = \"x\"\n").find("alias must be 1-8 letters or digits") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\n[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"y\"\n") ==
          "s.toml:5: source 2 (A): alias `A` is used twice");
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/tiles\"\ngsd = 1\n").find("url needs {z}") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"xyz\"\nurl = \"http://h/{q}\"\n").find("needs `gsd`") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"earthengine\"\ncollection = \"C\"\ngsd = 10\n").find("needs `bands`") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ncoverage = [1, 2, 3]\n").find("coverage must be") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\ndates = [\"2020-13-01\", \"\"]\n").find("dates must be") != std::string::npos);
    CHECK(error_of("[[source]]\nalias = \"A\"\nkind = \"gdal\"\npath = \"x\"\nstretch = [5, 1]\n").find("stretch must be") != std::string::npos);
}

TEST_CASE("`sources` lists every source with its status and reason") {
    const auto dir = fresh_dir("sources_cmd");
    write_file(dir + "/s.toml", "[[source]]\nalias = \"DOP\"\nkind = \"gdal\"\npath = \"" + data("imagery/dop-rgb.tif") +
                                    "\"\n[[source]]\nalias = \"GONE\"\nkind = \"gdal\"\npath = \"" + dir + "/gone.tif\"\ngsd = 1\n");
    const auto r = run(sh_quote(binary()) + " sources --check --sources " + sh_quote(dir + "/s.toml"));
    REQUIRE(r.exit_code == 0);
    const auto l = lines(r.out);
    REQUIRE(l.size() == 3);
    CHECK(l[1].find("usable: 3 band(s) Byte") != std::string::npos);
    CHECK(l[2].find("not usable: " + dir + "/gone.tif") != std::string::npos);
    const auto ee = run("env -u GOOGLE_APPLICATION_CREDENTIALS " + sh_quote(binary()) + " sources");
    CHECK(lines(ee.out).size() == 11);
    CHECK(ee.out.find("set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file") != std::string::npos);
    const auto bad = run(sh_quote(binary()) + " sources --sources " + sh_quote(dir + "/missing.toml"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err == "skyscript-build: error: " + dir + "/missing.toml: cannot open sources file\n");
}
