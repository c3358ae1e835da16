// The default vocabulary (generated from the iD tagging schema): size, classes,
// deny list, invisible families left out, SkyScript class coverage, and the
// `tags --list` / `tags --stats` commands.

#include "tag_filters/tag_list.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

using namespace skyscript::tags;
using namespace skyscript::test;

namespace {

const TagList& vocab() {
    static const TagList list = TagList::builtin();
    return list;
}
const TagMatcher& matcher() {
    static const TagMatcher m{vocab()};
    return m;
}

// "building=*" is checked with a value the wildcard must accept.
const TagEntry* find(const std::string& tag) {
    const auto eq = tag.find('=');
    const auto key = tag.substr(0, eq), value = tag.substr(eq + 1);
    return matcher().find(key, value == "*" ? "yes" : value);
}

struct ClassRow {
    std::string set, name;
    std::vector<std::vector<std::string>> alternatives;
};

std::vector<ClassRow> classes() {
    std::vector<ClassRow> rows;
    std::istringstream in(read_file(std::string(SKYSCRIPT_SOURCE_DIR) + "/tag_filters/skyscript_classes.tsv"));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        ClassRow r;
        std::istringstream f(line);
        std::string alts;
        std::getline(f, r.set, '\t');
        std::getline(f, r.name, '\t');
        std::getline(f, alts);
        std::size_t start = 0;
        for (;;) {
            const auto bar = alts.find(" | ", start);
            const auto alt = alts.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
            auto& tags = r.alternatives.emplace_back();
            std::size_t s = 0;
            for (;;) {
                const auto plus = alt.find('+', s);
                tags.push_back(alt.substr(s, plus == std::string::npos ? std::string::npos : plus - s));
                if (plus == std::string::npos) break;
                s = plus + 1;
            }
            if (bar == std::string::npos) break;
            start = bar + 3;
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

} // namespace

TEST_CASE("at least 1,000 feature entries and 80 attribute keys, every GSD a SPEC class") {
    CHECK(vocab().count(Role::feature) >= 1000);
    CHECK(vocab().count(Role::attribute) >= 80);
    for (const auto& e : vocab().entries()) {
        if (e.role == Role::deny) continue;
        INFO(e.key << "=" << e.value);
        CHECK(std::count(std::begin(gsd_classes), std::end(gsd_classes), e.max_gsd) == 1);
        if (e.role == Role::attribute) CHECK(e.value == "*");
    }
}

TEST_CASE("the attribute keys the issue names are attributes") {
    for (const std::string key : {"surface", "smoothness", "roof:shape", "building:material", "roof:material", "crop",
                                  "leaf_type", "leaf_cycle", "sport", "religion", "material", "generator:source",
                                  "plant:source", "cables", "voltage", "lanes", "water", "wetland"}) {
        INFO(key);
        const auto* e = matcher().find(key, "some_value_not_listed");
        REQUIRE(e);
        CHECK(e->role == Role::attribute);
    }
}

TEST_CASE("the deny list covers names, addresses, references, sources, contact and admin data") {
    for (const std::string key : {"name", "name:en", "alt_name", "addr:street", "addr:housenumber", "ref", "ref:bag",
                                  "source", "source:date", "note", "note:de", "fixme", "FIXME", "opening_hours",
                                  "phone", "website", "wikipedia", "wikidata", "operator", "admin_level", "contact:email"}) {
        INFO(key);
        CHECK(matcher().denied(key));
        CHECK(matcher().find(key, "x") == nullptr);
    }
    CHECK_FALSE(matcher().denied("surface"));
    CHECK_FALSE(matcher().denied("building"));
}

TEST_CASE("what is not visible from above is left out") {
    for (const auto& e : vocab().entries()) {
        if (e.role == Role::deny) continue;
        INFO(e.key << "=" << e.value);
        for (const std::string family : {"shop", "craft", "office", "healthcare", "vending", "cuisine", "indoor", "entrance"})
            CHECK(e.key != family);
    }
    for (const std::string tag : {"amenity=atm", "amenity=vending_machine", "amenity=post_box", "amenity=restaurant",
                                  "amenity=cafe", "amenity=bank", "amenity=pharmacy", "tourism=information", "shop=bakery"}) {
        INFO(tag);
        CHECK(find(tag) == nullptr);
    }
    // ...while the same families' visible things are in, with sensible classes.
    CHECK(find("amenity=parking")->max_gsd == 1);
    CHECK(find("natural=tree")->max_gsd == 0.6);
    CHECK(find("landuse=farmland")->max_gsd == 10);
    CHECK(find("highway=motorway")->max_gsd == 10);
    CHECK(find("highway=footway")->max_gsd == 0.6);
    CHECK(find("building=house")->max_gsd == 0.6);
    CHECK(find("building=warehouse")->max_gsd == 1);
    CHECK(find("amenity=bench")->max_gsd == 0.1);
}

TEST_CASE("every SkyScript class maps to vocabulary entries") {
    const auto rows = classes();
    const std::vector<std::string> cls_names{
        "airport apron", "airport hangar", "airport runway", "airport terminal", "amusement park", "apartment",
        "aquaculture land", "archaeological site", "barn", "baseball field", "basketball court", "beach",
        "border checkpoint", "bridge", "cemetery", "church", "circular farmland", "commercial land",
        "construction land", "crosswalk", "dam", "detached house", "educational institution", "factory",
        "fire station", "forest", "freeway", "gas station", "golf course", "greenhouse",
        "ground transportation station", "harbour", "helipad", "hospital", "glacier", "island", "lake",
        "lighthouse", "meadow", "military facility", "mine", "mountain", "office building", "oil well", "orchard",
        "parking space", "playground", "pond", "prison", "quarry", "race track", "railway", "railway station",
        "residential land", "resort", "river", "rock land", "roundabout", "solar power plant", "square", "stadium",
        "storage tank", "substation", "swimming pool", "tennis court", "tower", "turning circle",
        "wastewater treatment plant", "wetland", "wind farm"};
    REQUIRE(cls_names.size() == 70);
    std::vector<std::string> mapped;
    std::map<std::string, std::set<std::string>> fine;
    for (const auto& r : rows) {
        if (r.set == "cls") mapped.push_back(r.name);
        else fine[r.set].insert(r.name);
        INFO(r.set << ": " << r.name);
        bool some = false;
        for (const auto& alt : r.alternatives) {
            bool all = find(alt[0]) && find(alt[0])->role == Role::feature; // the first tag makes it a catalog object
            for (std::size_t i = 1; i < alt.size(); ++i) all = all && find(alt[i]) != nullptr;
            some = some || all;
            // Every alternative is real vocabulary, not just one of them.
            for (const auto& t : alt) CHECK_MESSAGE(find(t) != nullptr, t);
        }
        CHECK(some);
    }
    std::sort(mapped.begin(), mapped.end());
    auto expected = cls_names;
    std::sort(expected.begin(), expected.end());
    CHECK(mapped == expected);
    CHECK(fine["roof_shape"] == std::set<std::string>{"flat", "hipped", "gabled", "dome", "pyramidal", "round"});
    CHECK(fine["road_smoothness"] == std::set<std::string>{"excellent", "good", "intermediate", "bad", "very bad"});
    CHECK(fine["road_surface"] == std::set<std::string>{"asphalt", "concrete", "grass", "gravel", "sand"});
}

TEST_CASE("`tags --list` prints the format of SPEC section 1, one entry a line") {
    const auto r = run(sh_quote(binary()) + " tags --list");
    REQUIRE(r.exit_code == 0);
    const auto l = lines(r.out);
    CHECK(l.size() == vocab().entries().size());
    for (const auto& line : l) {
        const auto tabs = std::count(line.begin(), line.end(), '\t');
        INFO(line);
        if (line.ends_with("\tdeny")) CHECK(tabs == 1);
        else {
            CHECK(tabs == 2);
            CHECK(line.find('=') < line.find('\t'));
        }
    }
    CHECK(std::find(l.begin(), l.end(), "building=house\tfeature\t0.6") != l.end());
    CHECK(std::find(l.begin(), l.end(), "surface=*\tattribute\t0.6") != l.end());
}

TEST_CASE("`tags --stats` counts agree with osmium tags-filter; unknown tags exclude listed and denied keys") {
    const auto input = data("osm/monaco-latest.osm.pbf");
    const auto dir = fresh_dir("vocabulary_stats");
    const auto r = run(sh_quote(binary()) + " tags --stats " + sh_quote(input) + " --top 30 -q");
    REQUIRE(r.exit_code == 0);
    const auto l = lines(r.out);
    auto count_of = [&](const std::string& prefix) -> long long {
        for (const auto& line : l)
            if (line.starts_with(prefix + "\t")) return std::stoll(line.substr(line.rfind('\t') + 1));
        return -1;
    };
    for (const std::string tag : {"building=yes", "natural=tree", "highway=footway"}) {
        REQUIRE(run("osmium tags-filter -O -R " + sh_quote(input) + " " + tag + " -o " + sh_quote(dir + "/f.osm.pbf")).exit_code == 0);
        const auto info = run("osmium fileinfo -e -g data.count.nodes " + sh_quote(dir + "/f.osm.pbf") + " && osmium fileinfo -e -g data.count.ways " +
                              sh_quote(dir + "/f.osm.pbf") + " && osmium fileinfo -e -g data.count.relations " + sh_quote(dir + "/f.osm.pbf"));
        long long total = 0;
        for (const auto& n : lines(info.out)) total += std::stoll(n);
        const auto entry = tag == "building=yes" ? std::string("building=yes\tfeature\t1") : tag;
        INFO(tag << ": osmium " << total);
        const auto& e = *find(tag);
        CHECK(count_of(e.key + "=" + e.value + "\t" + std::string(role_name(e.role)) + "\t" + [&] {
                  std::ostringstream s;
                  s << e.max_gsd;
                  return s.str();
              }()) == total);
    }
    const auto unknown_at = std::find(l.begin(), l.end(), "# unknown tags: key=value\tobjects");
    REQUIRE(unknown_at != l.end());
    REQUIRE(unknown_at + 1 != l.end());
    bool saw_maxspeed = false;
    for (auto it = unknown_at + 1; it != l.end(); ++it) {
        const auto key = it->substr(0, it->find('='));
        INFO(*it);
        CHECK_FALSE(matcher().denied(key));
        CHECK(std::none_of(vocab().entries().begin(), vocab().entries().end(), [&](const auto& e) { return e.key == key; }));
        saw_maxspeed |= key == "maxspeed";
    }
    CHECK(saw_maxspeed);
    const auto bad = run(sh_quote(binary()) + " tags --stats " + sh_quote(dir + "/missing.osm.pbf"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err == "skyscript-build: error: " + dir + "/missing.osm.pbf: no such file\n");
}

TEST_CASE("`tags --stats` counts the hidden candidates as the extract does") {
    for (const std::string name : {"monaco-latest.osm.pbf", "liechtenstein-2013-08-03.osm.pbf"}) {
        INFO(name);
        const auto input = data("osm/" + name);
        const auto dir = fresh_dir("vocabulary_hidden_" + name);
        const auto stats = run(sh_quote(binary()) + " tags --stats " + sh_quote(input) + " --top 1 -q");
        REQUIRE(stats.exit_code == 0);
        const auto header = lines(stats.out).at(0);
        const auto at = header.find(" of them hidden from above");
        REQUIRE(at != std::string::npos);
        const auto hidden = std::stoll(header.substr(header.rfind(", ", at) + 2));
        REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(input) + " -q -o " + sh_quote(dir + "/out")).exit_code == 0);
        const auto extracted = sql_int(dir + "/out/catalog.gpkg", "SELECT CAST(value AS INTEGER) FROM skyscript_meta WHERE key='hidden'");
        CHECK(hidden > 0);
        CHECK(hidden == extracted);
    }
}
