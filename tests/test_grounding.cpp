// Grounded pairs (issue 22): the meta's pixel geometry lands on what the image shows, and
// --format coco writes COCO files a loader reads without changing the dataset. The build is
// the bare command on Monaco over a rendering of its own geometry (pipeline_fixture.hpp),
// read by the system python3 (tests/check_grounding.py with PIL, tests/check_coco.py).

#include "pipeline_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

// check_grounding.py's mean IoU of the named buildings' geometry_px with the rendered building colour.
double mean_iou(const std::string& out, const std::string& extra = "") {
    const auto r = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_grounding.py") + " " + sh_quote(out) + extra);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex(R"(mean_iou ([0-9.]+) images ([0-9]+))")));
    CHECK(std::stoi(m[2]) > 100); // most of the images name a building
    return std::stod(m[1]);
}

} // namespace

TEST_CASE("every named building's geometry_px covers the building pixels of its image; COCO files read back; coco changes nothing else") {
    monaco();
    // Every building in the tile named (no cap, no minimum): the rendered colour then has no
    // building the objects leave out, and the IoU measures only where the geometry lies.
    const std::string options = "--limit 300 --seed 7 --max-surrounding 1000 --min-visible-px 1,1";
    const auto with_coco = fresh_dir("grounding-coco");
    auto r = build(with_coco, options + " --format coco");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);

    SUBCASE("the geometry is where the pixels are, and a third of a tile off it is not") {
        const double iou = mean_iou(with_coco);
        const double shifted = mean_iou(with_coco, " --shift 0.3333");
        MESSAGE("mean IoU " << iou << ", shifted by a third of the tile " << shifted);
        CHECK(iou >= 0.8);
        CHECK(shifted < 0.4);
        CHECK(shifted < iou / 2);
    }

    SUBCASE("the COCO files load, every annotation's image exists, the captions are the CSVs'") {
        const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_coco.py") + " " + sh_quote(with_coco));
        INFO(check.out, check.err);
        REQUIRE(check.exit_code == 0);
        std::smatch m;
        const std::string out = check.out;
        REQUIRE(std::regex_search(out, m, std::regex(R"(ok coco ([0-9]+) images ([0-9]+) objects ([0-9]+) captions ([0-9]+) categories)")));
        CHECK(std::stoi(m[1]) == static_cast<int>(lines(read_file(with_coco + "/meta.jsonl")).size()));
        CHECK(std::stoi(m[2]) > std::stoi(m[1])); // surroundings too
        CHECK(std::stoi(m[3]) == 2 * std::stoi(m[1])); // title and title_multi_objects
        CHECK(std::stoi(m[4]) > 10);
    }

    SUBCASE("the same build without --format coco has the same images, meta and CSVs, and no COCO file") {
        const auto without = fresh_dir("grounding-files");
        r = build(without, options);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(dataset_files(without) == dataset_files(with_coco));
        for (const char* csv : {"SkyScript_val.csv", "SkyScript_test.csv"}) CHECK(read_file(without + "/" + csv) == read_file(with_coco + "/" + csv));
        CHECK_FALSE(fs::exists(without + "/annotations_train.json"));
        // And a rerun of the split with --format files (OUT remembers coco) removes the COCO files.
        r = run(sh_quote(binary()) + " split " + sh_quote(with_coco) + " --format files -q");
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        for (const char* s : {"train", "val", "test"}) CHECK_FALSE(fs::exists(with_coco + "/annotations_" + s + ".json"));
        CHECK(fs::exists(with_coco + "/SkyScript_train_unfiltered.csv"));
        CHECK(fs::exists(with_coco + "/SkyScript_val.csv"));
        bool leftover = false;
        for (const auto& f : fs::directory_iterator(with_coco)) leftover |= f.path().filename().string().find(".partial-") != std::string::npos;
        CHECK_FALSE(leftover);
    }

    SUBCASE("--format all writes the CSVs, the shards and the COCO files") {
        r = run(sh_quote(binary()) + " split " + sh_quote(with_coco) + " --format all -q");
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(fs::exists(with_coco + "/webdataset/train/00000.tar"));
        CHECK(fs::exists(with_coco + "/annotations_train.json"));
        CHECK(fs::exists(with_coco + "/SkyScript_train_unfiltered.csv"));
    }

    SUBCASE("objects edited into nonsense in the state DB: the COCO files and the report leave them out, nothing fails") {
        const auto db = sh_quote(with_coco + "/state.sqlite");
        const auto edit = run("sqlite3 " + db + " \"UPDATE jobs SET objects = CASE job_id % 4 WHEN 0 THEN '{\\\"a\\\":' "
                              "WHEN 1 THEN '[{\\\"role\\\":5,\\\"geometry_px\\\":\\\"x\\\",\\\"bbox_px\\\":[1,2]}]' "
                              "WHEN 2 THEN '[{\\\"role\\\":\\\"focus\\\",\\\"bbox_px\\\":[\\\"a\\\",1,2,3],\\\"geometry_px\\\":[[[\\\"x\\\"]]]}]' "
                              "ELSE '[7,null,[]]' END WHERE status = 'written'\"");
        REQUIRE_MESSAGE(edit.exit_code == 0, edit.err);
        r = run(sh_quote(binary()) + " split " + sh_quote(with_coco) + " -q");
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        r = run(sh_quote(binary()) + " report " + sh_quote(with_coco) + " -q");
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        const auto check = run("/usr/bin/python3 " + sh_quote(source_dir() + "/tests/check_coco.py") + " " + sh_quote(with_coco));
        INFO(check.out, check.err);
        CHECK(check.exit_code == 0);
        CHECK(check.out.find(" 0 objects ") != std::string::npos);
        CHECK(read_file(with_coco + "/report.html").find("svg class=\"outline\"") == std::string::npos);
    }
}
