// The dataset end to end (issue 9): the real binary on the bundled Monaco extract, with
// imagery rendered from the extract's own geometry by GDAL's tools (tests/render_osm_raster.sh),
// checked by independent readers: the system python3 (pickle, csv, PIL: tests/check_dataset.py),
// GDAL rasterizing the focus polygons onto the grids the meta records, sqlite3 on the state DB,
// and the `caption` command on the meta's tags.

#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

using namespace skyscript::test;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json; // tag order matters to captions

namespace {

std::vector<json> jsonl(const std::string& path) {
    std::vector<json> out;
    for (const auto& line : lines(read_file(path))) out.push_back(json::parse(line));
    return out;
}

// Share of the focus polygon's pixels (GDAL-rasterized onto `gt`) that show the rendered building colour.
double building_coverage(const std::string& dir, const std::string& catalog, const json& meta, const std::string& image, double shift_px) {
    const int size = meta["size_px"];
    const double gsd = meta["gsd_m"];
    const double x0 = double(meta["transform"][0]) + shift_px * gsd, y1 = double(meta["transform"][3]);
    const std::string poly = dir + "/focus.gpkg", mask = dir + "/mask.tif";
    fs::remove(poly);
    fs::remove(mask);
    const std::string type = meta["osm_type"];
    const auto id = std::to_string(meta["osm_id"].get<long long>());
    REQUIRE(run("ogr2ogr -q -f GPKG " + sh_quote(poly) + " " + sh_quote(catalog) + " -nln focus -t_srs " + std::string(meta["crs"]) +
                " -sql \"SELECT geom FROM objects WHERE osm_type = '" + type + "' AND osm_id = " + id + "\"").exit_code == 0);
    char te[200];
    std::snprintf(te, sizeof te, "-te %.6f %.6f %.6f %.6f -ts %d %d", x0, y1 - size * gsd, x0 + size * gsd, y1, size, size);
    REQUIRE(run("gdal_rasterize -q -burn 255 -ot Byte -init 0 -a_srs " + std::string(meta["crs"]) + " " + te + " -l focus " +
                sh_quote(poly) + " " + sh_quote(mask)).exit_code == 0);
    const auto a = load_raster(mask), b = load_raster(image);
    REQUIRE(a.width == b.width);
    std::size_t inside = 0, hit = 0;
    for (std::size_t i = 0; i < a.data[0].size(); ++i) {
        if (a.data[0][i] < 128) continue;
        ++inside;
        const bool building = std::abs(b.data[0][i] - 185) < 45 && std::abs(b.data[1][i] - 80) < 45 && std::abs(b.data[2][i] - 60) < 45;
        hit += building;
    }
    return inside ? double(hit) / double(inside) : 0;
}

} // namespace

TEST_CASE("the bare command builds a dataset that python3, GDAL and the caption command agree with") {
    const auto& m = monaco();
    const auto out = fresh_dir("pipeline-e2e");
    const auto r = build(out, "--limit 300 --seed 7");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("plan: ") != std::string::npos);
    CHECK(r.out.find("fetch: ") != std::string::npos);
    CHECK(r.out.find("write: ") != std::string::npos);

    // Independent readers: pickle, csv, PIL, sqlite3 (tests/check_dataset.py).
    const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_dataset.py") + " " + sh_quote(out));
    INFO(check.out, check.err);
    REQUIRE(check.exit_code == 0);
    const auto records = jsonl(out + "/meta.jsonl");
    CHECK(check.out == "ok " + std::to_string(records.size()) + " images\n");
    CHECK(records.size() > 150);

    // The state DB accounts for every sampled object: written, failed with a reason, or skipped with one.
    const auto db = out + "/state.sqlite";
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'") == static_cast<std::int64_t>(records.size()));
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status IN ('planned', 'fetched')") == 0);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'failed' AND (reason IS NULL OR reason = '')") == 0);
    CHECK(sql_int(db, "SELECT count(*) FROM jobs") + sql_int(db, "SELECT coalesce(sum(objects), 0) FROM skipped") == 300);

    SUBCASE("captions in the CSV equal `caption` on the meta's tags") {
        int compared = 0;
        for (const auto& rec : records) {
            if (compared == 25) break;
            // Tags as JSON objects: values may hold commas.
            std::string cmd = sh_quote(binary()) + " caption " + sh_quote(rec["center_tags"].dump());
            for (const auto& object : rec["surrounding_tags"]) cmd += " --around " + sh_quote(object.dump());
            const auto c = run(cmd);
            REQUIRE_MESSAGE(c.exit_code == 0, c.err);
            const auto l = lines(c.out);
            REQUIRE(l.size() >= 2);
            CHECK(l[0] == rec["title"]);
            CHECK(l[1] == rec["title_multi_objects"]);
            ++compared;
        }
        CHECK(compared == 25);
    }

    SUBCASE("geo-registration: each building's own polygon, rasterized by GDAL onto the meta's grid, shows the building colour") {
        double sum = 0, shifted_sum = 0;
        int n = 0;
        const auto scratch = fresh_dir("pipeline-registration");
        for (const auto& rec : records) {
            const std::string focus = rec["focus_tag"];
            if (!focus.starts_with("building=") || n == 20) continue;
            if (std::string(rec["filepath"]).find("/a") == std::string::npos) continue; // areas only
            const auto image = out + "/" + std::string(rec["filepath"]);
            const double c = building_coverage(scratch, m.catalog, rec, image, 0);
            CHECK_MESSAGE(c >= 0.8, rec["filepath"]);
            sum += c;
            shifted_sum += building_coverage(scratch, m.catalog, rec, image, rec["size_px"].get<int>() / 3.0);
            ++n;
        }
        REQUIRE(n >= 10);
        CHECK(sum / n >= 0.9);
        // The same check on a grid a third of a tile off must do much worse: it can fail.
        CHECK(shifted_sum / n < sum / n - 0.2);
    }

    SUBCASE("a rerun with the same arguments has nothing left to do; one with another seed is refused") {
        const auto before = dataset_files(out);
        const auto again = build(out, "--limit 300 --seed 7");
        REQUIRE_MESSAGE(again.exit_code == 0, again.err);
        CHECK(again.out.find("fetch: 0 images") != std::string::npos);
        CHECK(dataset_files(out) == before);
        const auto other = build(out, "--limit 300 --seed 8");
        CHECK(other.exit_code != 0);
        CHECK(lines(other.err).size() == 1);
        CHECK(other.err.find("--seed 8") != std::string::npos);
        CHECK(dataset_files(out) == before);
    }
}

TEST_CASE("--workers above the cores: the gdal source's pixel threads run without TBB's warning on stderr (round 37)") {
    // Before: "TBB Warning: The number of workers is currently limited to 1. The request for 7
    // workers is ignored. ..." in the middle of the build's output, naming no option.
    const auto dir = fresh_dir("pipeline-many-workers");
    const auto r = build(dir + "/out", "--limit 30 --workers 256 -q"); // past the cores of any machine this runs on
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.err.find("TBB") == std::string::npos, r.err);
    CHECK(sql_int(dir + "/out/state.sqlite", "SELECT count(*) FROM jobs WHERE status = 'written'") > 0);
}
