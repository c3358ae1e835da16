// The tag-list format, its loader's errors, and the matcher's rules.

#include "tag_list.hpp"
#include "tag_matcher.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

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

TEST_CASE("load_file names a missing file and rejects a list without features") {
    const auto dir = skyscript::test::fresh_dir("tag_filters_load");
    try {
        TagList::load_file(dir + "/missing.tsv");
        FAIL("no error");
    } catch (const TagListError& e) {
        CHECK(std::string(e.what()) == dir + "/missing.tsv: cannot open tag list");
    }
    skyscript::test::write_file(dir + "/attrs.tsv", "surface=*\tattribute\t1\n");
    CHECK_THROWS_WITH_AS(TagList::load_file(dir + "/attrs.tsv"), doctest::Contains("no feature entries"), TagListError);
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
