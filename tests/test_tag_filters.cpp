// The tag-list format, the --tags loader's errors, and the matcher's rules.

#include "tag_list.hpp"
#include "tag_list_file.hpp"
#include "tag_matcher.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace skyscript::tags;

namespace {

std::string parse_error(const std::string& text) {
    try {
        TagList::parse(text, "my.tsv");
    } catch (const TagListError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("entries, comments, roles and GSD are read") {
    const auto list = TagList::parse("# header\n\nbuilding=*\tfeature\t1\n"
                                     "surface=* attribute 0.6   # trailing comment\r\n"
                                     "name\tdeny\naddr:*\tdeny\n",
                                     "t.tsv");
    REQUIRE(list.entries().size() == 4);
    CHECK(list.entries()[0].key == "building");
    CHECK(list.entries()[0].value == "*");
    CHECK(list.entries()[0].role == Role::feature);
    CHECK(list.entries()[0].max_gsd == 1.0);
    CHECK(list.entries()[1].role == Role::attribute);
    CHECK(list.entries()[1].max_gsd == 0.6);
    CHECK(list.entries()[3].key == "addr:*");
    CHECK(list.count(Role::deny) == 2);
}

TEST_CASE("malformed lines are reported with file and line number") {
    CHECK(parse_error("building=*\tfeature\t1\nbuilding\tfeature\t1\n") == "my.tsv:2: expected key=value or key=*, got `building`");
    CHECK(parse_error("a=b\tthing\t1\n") == "my.tsv:1: role must be feature, attribute or deny, got `thing`");
    CHECK(parse_error("\n\na=b\tfeature\tfast\n") == "my.tsv:3: max_gsd must be a number of metres in (0, 1000], got `fast`");
    CHECK(parse_error("a=b\tfeature\t-1\n") == "my.tsv:1: max_gsd must be a number of metres in (0, 1000], got `-1`");
    CHECK(parse_error("a=b\tfeature\n") == "my.tsv:1: expected 3 fields (key=value, role, max_gsd), got 2");
    CHECK(parse_error("a=b\tfeature\t1\na=b\tattribute\t1\n") == "my.tsv:2: duplicate entry `a=b` (first on line 1)");
    CHECK(parse_error("=b\tfeature\t1\n") == "my.tsv:1: expected key=value or key=*, got `=b`");
    CHECK(parse_error("onlyonefield\n") == "my.tsv:1: expected `key=value<TAB>role<TAB>max_gsd`, got one field");
}

TEST_CASE("--tags: the default, FILE replaces, +FILE adds; errors name the file and line") {
    using skyscript::pipeline::load_tag_option;
    const auto dir = skyscript::test::fresh_dir("tag_filters_load");
    CHECK(load_tag_option("").entries().size() == TagList::builtin().entries().size());
    try {
        load_tag_option(dir + "/missing.tsv");
        FAIL("no error");
    } catch (const TagListError& e) {
        CHECK(std::string(e.what()) == dir + "/missing.tsv: cannot open tag list");
    }
    CHECK_THROWS_WITH_AS(load_tag_option("+" + dir + "/missing.tsv"), (dir + "/missing.tsv: cannot open tag list").c_str(), TagListError);
    skyscript::test::write_file(dir + "/attrs.tsv", "surface=*\tattribute\t1\n");
    CHECK_THROWS_WITH_AS(load_tag_option(dir + "/attrs.tsv"), doctest::Contains("no feature entries"), TagListError);
    skyscript::test::write_file(dir + "/bad.tsv", "# x\nfountain\tfeature\t1\n");
    CHECK_THROWS_WITH_AS(load_tag_option("+" + dir + "/bad.tsv"), doctest::Contains((dir + "/bad.tsv:2: ").c_str()), TagListError);
    skyscript::test::write_file(dir + "/mine.tsv", "amenity=fountain\tfeature\t0.2\n");
    const auto mine = load_tag_option(dir + "/mine.tsv");
    REQUIRE(mine.entries().size() == 1);
    const auto plus = load_tag_option("+" + dir + "/mine.tsv");
    CHECK(plus.entries().size() >= TagList::builtin().entries().size());
    CHECK(TagMatcher{plus}.find("amenity", "fountain")->max_gsd == 0.2);
    CHECK(TagMatcher{plus}.find("building", "yes") != nullptr);
}

TEST_CASE("tag_filters/ parses text and reads no files (SPEC section 2: pipeline/ reads them)") {
    namespace fs = std::filesystem;
    int sources = 0;
    for (const auto& e : fs::directory_iterator(skyscript::test::source_dir() + "/tag_filters")) {
        const auto ext = e.path().extension();
        if (ext != ".cpp" && ext != ".hpp") continue;
        ++sources;
        const auto text = skyscript::test::read_file(e.path().string());
        for (const char* io : {"<fstream>", "<filesystem>", "<cstdio>", "<stdio.h>", "<unistd.h>", "<fcntl.h>", "fopen(", "ifstream"})
            CHECK_MESSAGE(text.find(io) == std::string::npos, e.path().filename().string() << " uses " << io);
    }
    CHECK(sources >= 4);
}

TEST_CASE("matcher: exact values, wildcards, 'no', unknown and denied keys") {
    const auto list = TagList::parse("building=*\tfeature\t1\nbuilding=house\tfeature\t0.6\n"
                                     "surface=*\tattribute\t0.6\nname=*\tfeature\t1\nname\tdeny\n"
                                     "addr:*\tdeny\naddr:street=*\tattribute\t1\n",
                                     "t");
    const TagMatcher m{list};
    REQUIRE(m.find("building", "yes"));
    CHECK(m.find("building", "yes")->value == "*");
    CHECK(m.find("building", "house")->max_gsd == 0.6);
    CHECK(m.find("building", "no") == nullptr);
    CHECK(m.find("building", "") == nullptr);
    CHECK(m.find("surface", "asphalt")->role == Role::attribute);
    CHECK(m.find("highway", "primary") == nullptr); // neither listed nor denied: ignored
    CHECK(m.find("name", "Main Street") == nullptr); // deny wins over a feature entry
    CHECK(m.find("addr:street", "x") == nullptr);    // prefix deny
    CHECK(m.denied("addr:housenumber"));
    CHECK_FALSE(m.denied("address"));
}

TEST_CASE("merge: +FILE overrides same entries, adds new ones, and lifts a deny of the key") {
    auto base = TagList::parse("building=*\tfeature\t1\nname\tdeny\nsurface=*\tattribute\t0.6\n", "base");
    base.merge(TagList::parse("building=*\tfeature\t10\nname=*\tattribute\t1\ncrop=*\tattribute\t10\n", "plus"));
    const TagMatcher m{base};
    CHECK(m.find("building", "yes")->max_gsd == 10);
    CHECK(m.find("name", "x") != nullptr);
    CHECK(m.find("crop", "rice") != nullptr);
    CHECK(m.find("surface", "gravel") != nullptr);
    for (std::size_t i = 0; i < base.entries().size(); ++i) CHECK(base.entries()[i].order == i);
}

TEST_CASE("the built-in list loads and has features, attributes and a deny list") {
    const auto list = TagList::builtin();
    CHECK(list.count(Role::feature) > 100);
    CHECK(list.count(Role::attribute) > 20);
    const TagMatcher m{list};
    CHECK(m.find("building", "yes"));
    CHECK(m.find("name", "x") == nullptr);
    CHECK(m.denied("addr:city"));
}
