// The tag-list format, the --tags loader's errors, the matcher's rules, and the hidden-object rules.

#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/string_table.hpp"
#include "tag_filters/tag_list.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "tag_filters/utf8_text.hpp"
#include "tag_filters/visible_tags.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <string>
#include <vector>

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
    // Before: listed as building=yes by `tags --list`, matching no tag in `caption` (the C strings end at the NUL).
    CHECK(parse_error(std::string("building=yes\0evil\tfeature\t1\n", 25)) == "my.tsv:1: the entry holds a NUL byte");
    // An entry its own list denies (red-team round 33: listed, then "denied key" in every caption).
    CHECK(parse_error("building=yes\tfeature\t1\nbuilding\tdeny\n") ==
          "my.tsv:2: `building=yes` is listed as a feature (line 1) and its key denied by `building` (line 2): it could never apply; keep one of the two");
    CHECK(parse_error("addr:*\tdeny\n# c\naddr:street=*\tattribute\t1\n") ==
          "my.tsv:3: `addr:street=*` is listed as an attribute (line 3) and its key denied by `addr:*` (line 1): it could never apply; keep one of the two");
    CHECK(parse_error("a*\tdeny\nab=c\tfeature\t1\n").find("denied by `a*`") != std::string::npos);
    CHECK(parse_error("ab*\tdeny\na=c\tfeature\t1\nabc\tdeny\n").empty()); // a, not ab...: no clash
    // A deny of key=value (red-team round 36): it had denied the whole key, every building gone from the catalog.
    CHECK(parse_error("building=yes\tdeny\n") ==
          "my.tsv:1: a deny entry takes a key or a key prefix (`name`, `name:*`), not key=value: `building=yes` would deny every `building` tag");
    CHECK(parse_error("building=*\tdeny\n").empty()); // key=* is the key
}

TEST_CASE("--tags: the default, FILE replaces, +FILE adds; errors name the file and line") {
    using skyscript::pipeline::load_tag_option;
    const auto dir = skyscript::test::fresh_dir("tag_filters_load");
    CHECK(load_tag_option("").entries().size() == TagList::builtin().entries().size());
    try {
        load_tag_option(dir + "/missing.tsv");
        FAIL("no error");
    } catch (const TagListError& e) {
        CHECK(std::string(e.what()) == dir + "/missing.tsv: cannot open tag list (no such file)");
    }
    CHECK_THROWS_WITH_AS(load_tag_option("+" + dir + "/missing.tsv"), (dir + "/missing.tsv: cannot open tag list (no such file)").c_str(), TagListError);
    skyscript::test::write_file(dir + "/attrs.tsv", "surface=*\tattribute\t1\n");
    CHECK_THROWS_WITH_AS(load_tag_option(dir + "/attrs.tsv"), doctest::Contains("no feature entries"), TagListError);
    skyscript::test::write_file(dir + "/bad.tsv", "# x\nfountain\tfeature\t1\n");
    CHECK_THROWS_WITH_AS(load_tag_option("+" + dir + "/bad.tsv"), doctest::Contains((dir + "/bad.tsv:2: ").c_str()), TagListError);
    // A 2 GB file of zeros given by mistake: refused from its size, not read whole (8 GB and a minute before).
    skyscript::test::write_file(dir + "/zeros.tsv", "");
    REQUIRE(::truncate((dir + "/zeros.tsv").c_str(), 2LL << 30) == 0);
    CHECK_THROWS_WITH_AS(load_tag_option(dir + "/zeros.tsv"), (dir + "/zeros.tsv: cannot open tag list (2048 MB, more than the 16 MB a list or a config file may be)").c_str(), TagListError);
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
    // Denies over entries of their keys, as a +FILE's denies meet the built-in entries (one
    // file holding both is refused: TagList::parse).
    auto list = TagList::parse("building=*\tfeature\t1\nbuilding=house\tfeature\t0.6\n"
                               "surface=*\tattribute\t0.6\nname=*\tfeature\t1\naddr:street=*\tattribute\t1\n",
                               "t");
    list.merge(TagList::parse("name\tdeny\naddr:*\tdeny\n", "d"));
    const TagMatcher m{list};
    REQUIRE(m.find("building", "yes"));
    CHECK(m.find("building", "yes")->value == "*");
    CHECK(m.find("building", "house")->max_gsd == 0.6);
    CHECK(m.find("building", "no") == nullptr);
    CHECK(m.find("building", "") == nullptr);
    // A value a caption makes nothing of is no value (red-team round 26: "a satellite image" alone).
    for (const std::string& nothing : std::vector<std::string>{"_", "   ", ";;;", "_ ;\t\n", std::string("\0\x7f", 2), "\xe2\x80\x8b", "\xc2\xa0_\xe3\x80\x80", "\xe2\x80\xae"}) CHECK_MESSAGE(m.find("building", nothing) == nullptr, nothing);
    CHECK(m.find("building", "_a_") != nullptr);
    CHECK(m.find("building", "\xC3\xA9") != nullptr); // é
    CHECK(m.find("surface", "asphalt")->role == Role::attribute);
    CHECK(m.find("highway", "primary") == nullptr); // neither listed nor denied: ignored
    CHECK(m.find("name", "Main Street") == nullptr); // deny wins over a feature entry
    CHECK(m.find("addr:street", "x") == nullptr);    // prefix deny
    CHECK(m.denied("addr:housenumber"));
    CHECK_FALSE(m.denied("address"));
}

TEST_CASE("string table: every key inserted is found with its value, through growth; others are not") {
    StringTable<int> table;
    CHECK(table.find("building") == nullptr); // empty
    // Keys of every length around the 8-byte words the hash reads, and some sharing prefixes.
    std::vector<std::string> keys;
    for (int i = 0; i < 3000; ++i) keys.push_back(std::string(static_cast<std::size_t>(i % 19), 'k') + std::to_string(i));
    for (std::size_t i = 0; i < keys.size(); ++i) table.insert(keys[i]) = static_cast<int>(i);
    CHECK(table.size() == keys.size());
    table.insert(keys[5]) = 5; // inserting again keeps one entry
    CHECK(table.size() == keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const int* v = table.find(keys[i]);
        REQUIRE(v);
        CHECK(*v == static_cast<int>(i));
    }
    CHECK(table.find("") == nullptr);
    CHECK(table.find("k") == nullptr);
    CHECK(table.find(keys[7] + "x") == nullptr);
    CHECK(table.find(keys[7].substr(0, keys[7].size() - 1)) == nullptr);
    table.insert("") = -1;
    CHECK(*table.find("") == -1);
}

TEST_CASE("matcher: every entry of the built-in list is found as itself, value entries before key=*") {
    const auto list = TagList::builtin();
    const TagMatcher m{list};
    std::size_t checked = 0;
    for (const auto& e : list.entries()) {
        if (e.role == Role::deny || m.denied(e.key)) continue;
        const auto* found = m.find(e.key, e.value == "*" ? "some value" : e.value);
        REQUIRE_MESSAGE(found, e.key << "=" << e.value);
        if (e.value != "*") CHECK(found->value == e.value);
        ++checked;
    }
    CHECK(checked > 1000);
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

namespace {

struct Tag {
    std::string k, v;
    const char* key() const { return k.c_str(); }
    const char* value() const { return v.c_str(); }
};
using Tags = std::vector<Tag>;

std::string hidden_error(const std::string& text) {
    try {
        HiddenRules::parse(text, "h.tsv");
    } catch (const HiddenRulesError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("hidden rules: conditions, kinds, numbers, and 'no'") {
    const auto rules = HiddenRules::parse("# c\ntunnel=*  any\ncovered=yes line # roofs stay\nlayer<0 highway=* line\nlevel>2 point,area\n", "h");
    REQUIRE(rules.rules().size() == 4);
    using K = ObjectKind;
    CHECK(rules.find(Tags{{"highway", "primary"}, {"tunnel", "yes"}}, K::line));
    CHECK(rules.find(Tags{{"building", "yes"}, {"tunnel", "building_passage"}}, K::area));
    CHECK_FALSE(rules.find(Tags{{"highway", "primary"}, {"tunnel", "no"}}, K::line));
    CHECK_FALSE(rules.find(Tags{{"highway", "primary"}, {"tunnel", ""}}, K::line));
    CHECK(rules.find(Tags{{"highway", "footway"}, {"covered", "yes"}}, K::line));
    CHECK_FALSE(rules.find(Tags{{"building", "yes"}, {"covered", "yes"}}, K::area));
    CHECK(rules.find(Tags{{"highway", "service"}, {"layer", "-1"}}, K::line));
    CHECK_FALSE(rules.find(Tags{{"highway", "pedestrian"}, {"layer", "-1"}}, K::area)); // a sunken square
    CHECK_FALSE(rules.find(Tags{{"railway", "rail"}, {"layer", "-1"}}, K::line));      // both conditions
    CHECK_FALSE(rules.find(Tags{{"highway", "service"}, {"layer", "0"}}, K::line));
    CHECK_FALSE(rules.find(Tags{{"highway", "service"}, {"layer", "-1;0"}}, K::line));
    CHECK(rules.find(Tags{{"level", "3"}}, K::point)->text == "level>2 point,area");
    CHECK_FALSE(rules.find(Tags{{"level", "3"}}, K::line));
    CHECK(HiddenRules::parse("", "empty").rules().empty());
    CHECK_FALSE(HiddenRules::parse("", "empty").find(Tags{{"tunnel", "yes"}}, K::line));
}

TEST_CASE("hidden rules: errors name the source and line") {
    CHECK(hidden_error("tunnel=*\n") == "h.tsv:1: expected `condition [condition...] kinds`, got one field");
    CHECK(hidden_error("\ntunnel=* lines\n") == "h.tsv:2: kinds must be `any` or a comma list of point, line, area; got `lines`");
    CHECK(hidden_error("layer<x line\n") == "h.tsv:1: `layer<x`: expected a number after <");
    CHECK(hidden_error("tunnel any\n") == "h.tsv:1: expected a condition key=value, key=*, key<N or key>N, got `tunnel`");
    CHECK(hidden_error("=yes any\n") == "h.tsv:1: expected a condition key=value, key=*, key<N or key>N, got `=yes`");
    std::string many;
    for (int i = 0; i < 65; ++i) {
        char line[32];
        std::snprintf(line, sizeof line, "k%d=* any\n", i); // (string appends here trip GCC 12's false -Wrestrict)
        many += line;
    }
    CHECK(hidden_error(many) == "h.tsv:65: more than 64 conditions in all");
    // Red-team round 33: a threshold of nan was taken (a rule no value meets), a NUL cut the
    // message quoting it, and a rule given twice was kept twice.
    CHECK(hidden_error("layer<nan highway=* line\n") == "h.tsv:1: `layer<nan`: expected a number after <");
    CHECK(hidden_error("layer>-nan highway=* line\n") == "h.tsv:1: `layer>-nan`: expected a number after >");
    CHECK(hidden_error("layer<inf any\n") == "h.tsv:1: `layer<inf`: expected a number after <");
    CHECK(hidden_error(std::string("highway=*\tli\0ne\n", 14)) == "h.tsv:1: the rule holds a NUL byte");
    CHECK(hidden_error(std::string("a\0b=yes any\n", 12)) == "h.tsv:1: the rule holds a NUL byte");
    CHECK(hidden_error("tunnel=* any\ncovered=yes line\ntunnel=*\tany\n") == "h.tsv:3: the rule `tunnel=* any` is given twice");
}

TEST_CASE("the built-in hidden rules: tunnels, underground, indoor and covered lines, not sunken areas") {
    const auto rules = HiddenRules::builtin();
    using K = ObjectKind;
    CHECK(rules.rules().size() >= 8);
    CHECK(rules.find(Tags{{"railway", "subway"}, {"tunnel", "yes"}}, K::line));
    CHECK(rules.find(Tags{{"man_made", "pipeline"}, {"location", "underground"}}, K::line));
    CHECK(rules.find(Tags{{"amenity", "parking"}, {"parking", "underground"}}, K::point));
    CHECK(rules.find(Tags{{"indoor", "room"}}, K::area));
    CHECK(rules.find(Tags{{"waterway", "stream"}, {"layer", "-2"}}, K::line));
    CHECK_FALSE(rules.find(Tags{{"place", "square"}, {"highway", "pedestrian"}, {"layer", "-1"}}, K::area));
    CHECK_FALSE(rules.find(Tags{{"leisure", "swimming_pool"}, {"layer", "-1"}}, K::area));
    CHECK_FALSE(rules.find(Tags{{"highway", "primary"}, {"bridge", "yes"}, {"layer", "1"}}, K::line));
    CHECK_FALSE(rules.find(Tags{{"indoor", "no"}, {"amenity", "bench"}}, K::point));
}

TEST_CASE("GSD classes: the top class (10 m) shows at any GSD, the others only down to their own") {
    CHECK(shown_at_gsd(0.6, 0.6000001)); // arithmetic's tolerance
    CHECK_FALSE(shown_at_gsd(0.6, 0.8));
    CHECK_FALSE(shown_at_gsd(1, 10));
    CHECK(shown_at_gsd(10, 10));
    CHECK(shown_at_gsd(10, 30)); // Landsat images a lake
    CHECK(shown_at_gsd(10, 300));
    CHECK(shown_at_gsd(50, 300)); // a list of one's own: anything of 10 m or more is the top class
    CHECK_FALSE(shown_at_gsd(9.9, 30));
    CHECK(coarsest_shown_gsd(10, 30) == 30);
    CHECK(coarsest_shown_gsd(10, 0.5) == 10);
    CHECK(coarsest_shown_gsd(1, 30) == 1);

    // On a 30 m image a forest and a lake keep their tags; a building (1 m) drops out.
    const auto list = TagList::parse("landuse=forest\tfeature\t10\nnatural=water\tfeature\t10\nwater=*\tattribute\t10\n"
                                     "building=yes\tfeature\t1\n", "t.tsv");
    const TagMatcher matcher{list};
    const std::vector<TagView> lake{{"natural", "water"}, {"water", "lake"}};
    CHECK(visible_tags(matcher, lake, 30).size() == 2);
    const std::vector<TagView> house{{"building", "yes"}};
    std::vector<DroppedTag> dropped;
    CHECK(visible_tags(matcher, house, 30, &dropped).empty());
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].reason == DropReason::finer_than_gsd);
}

TEST_CASE("one_line: text from outside as one line of valid UTF-8 for a message, cut between code points") {
    using skyscript::tags::one_line;
    CHECK(one_line("a\nb\r\tc\x1b[2Jd") == "a b  c [2Jd");
    CHECK(one_line("x\xC2\x85y\xE2\x80\xA8z") == "x y z"); // NEL, LINE SEPARATOR
    CHECK(one_line("\xFFok") == "\xEF\xBF\xBDok");
    CHECK(one_line("h\xC3\xA9!", 2) == "h"); // é not cut in half
    CHECK(one_line("h\xC3\xA9!", 3) == "h\xC3\xA9");
    CHECK(one_line(std::string(1000, 'a'), 80).size() == 80);
}
