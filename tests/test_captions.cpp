// SkyScript's caption rules: the paper's examples (docs/captions.md) byte for byte, surroundings,
// hostile values, tables as data, and the `caption` command.

#include "captions/caption_text.hpp"
#include "captions/captioner.hpp"
#include "captions/natural_captioner.hpp"
#include "tag_filters/tag_list.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "test_support.hpp"
#include "tag_filters/visible_tags.hpp"

#include <doctest/doctest.h>

using namespace skyscript::captions;
using skyscript::test::run;
using skyscript::test::sh_quote;

namespace {

using Object = std::vector<Tag>;

std::string body(const std::string& caption) {
    REQUIRE(caption.starts_with(caption_prefix));
    return caption.substr(caption_prefix.size());
}

std::string single(const Object& o) { return body(Captioner{}.title(o)); }

std::string multi(const Object& focus, const std::vector<Object>& around = {}, CaptionOptions opt = {}) {
    std::vector<TagSet> sets(around.begin(), around.end());
    return body(Captioner{CaptionTables::builtin(), opt}.title_multi_objects(focus, sets));
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

void check_one_line_safe(const std::string& caption) {
    CHECK(caption.find_first_of("\n\r\t\v\f") == std::string::npos);
    CHECK(valid_utf8(caption));
    CHECK(caption.find("  ") == std::string::npos);
    CHECK(caption.back() != ' ');
    for (unsigned char c : caption) CHECK((c >= 0x20 && c != 0x7F));
}

} // namespace

TEST_CASE("SPEC section 6 test vectors, byte for byte") {
    const Object quarry{{"landuse", "quarry"}, {"resource", "bauxite"}};
    CHECK(single(quarry) == "landuse of quarry, resource of bauxite");
    CHECK(multi(quarry) == "landuse of quarry with resource of bauxite");

    const Object fountain{{"amenity", "fountain"}};
    CHECK(single(fountain) == "amenity of fountain");
    CHECK(multi(fountain, {{{"natural", "tree"}}, {{"highway", "footway"}}}) ==
          "amenity of fountain, surrounded by natural tree; road of footway");

    const Object pole{{"power", "pole"}};
    CHECK(single(pole) == "power pole");
    CHECK(multi(pole, {{{"power", "minor_line"}, {"cables", "3"}, {"voltage", "16000"}}}) ==
          "power pole, surrounded by power minor line with cables of 3 and voltage of 16000");

    const Object pier{{"man_made", "pier"}};
    CHECK(single(pier) == "man made pier");
    CHECK(multi(pier, {{{"waterway", "river"}}}) == "man made pier, surrounded by waterway of river");

    const Object farmland{{"landuse", "farmland"}, {"crop", "cotton"}};
    CHECK(single(farmland) == "landuse of farmland, crop of cotton");
    CHECK(multi(farmland) == "landuse of farmland with crop of cotton");

    const Object plant{{"power", "plant"}, {"plant:source", "solar"}, {"plant:method", "thermal"}, {"plant:output:electricity", "19.9 MW"}};
    CHECK(single(plant) == "power plant, plant source of solar, plant method of thermal, plant output electricity of 19.9 MW");

    CHECK(single({{"building", "yes"}, {"office", "energy_supplier"}}) == "building, office of energy supplier");
    CHECK(single({{"building", "warehouse"}}) == "building of warehouse");

    CHECK(Captioner{}.title(quarry) == "a satellite image of landuse of quarry, resource of bauxite");
}

TEST_CASE("an object's tags: priority keys first, then the caller's order") {
    CHECK(single({{"office", "energy_supplier"}, {"building", "yes"}}) == "building, office of energy supplier");
    CHECK(single({{"surface", "asphalt"}, {"amenity", "parking"}, {"parking", "surface"}}) ==
          "amenity of parking, surface of asphalt, parking of surface");
    CHECK(single({{"crop", "rice"}, {"irrigated", "yes"}}) == "crop of rice, irrigated");
}

TEST_CASE("surrounding objects: identical phrases once, caller's order, configurable cap") {
    const Object focus{{"amenity", "fountain"}};
    const Object tree{{"natural", "tree"}}, path{{"highway", "footway"}}, bench{{"amenity", "bench"}};
    CHECK(multi(focus, {tree, tree, path, tree}) == "amenity of fountain, surrounded by natural tree; road of footway");
    CHECK(multi(focus, {path, tree}) == "amenity of fountain, surrounded by road of footway; natural tree");
    CaptionOptions two;
    two.max_surrounding = 2;
    CHECK(multi(focus, {tree, tree, path, bench}, two) == "amenity of fountain, surrounded by natural tree; road of footway");
    CaptionOptions none;
    none.max_surrounding = 0;
    CHECK(multi(focus, {tree}, none) == "amenity of fountain");
    CHECK(multi(focus, {{{"name", ""}}, tree}) == "amenity of fountain, surrounded by natural tree"); // nothing to say: skipped
}

TEST_CASE("hostile values: newlines, tabs and control characters") {
    const auto t = Captioner{}.title(Object{{"amenity", "foun\ntain\r\nx\ty\x01z\x7f"}});
    CHECK(body(t) == "amenity of foun tain x y z");
    check_one_line_safe(t);
}

TEST_CASE("hostile values: bidirectional overrides and isolates are dropped, the direction marks stay") {
    // U+202E (RIGHT-TO-LEFT OVERRIDE) made the rest of the caption, and of its CSV row, display reversed.
    const auto t = Captioner{}.title(Object{{"amenity", "cafe"}, {"name", "Caf\xc3\xa9 \xe2\x80\xae" "evil\xe2\x81\xa6" "x\xe2\x81\xa9 \xd7\xa9\xe2\x80\x8f"}});
    CHECK(t.find("\xe2\x80\xae") == std::string::npos);
    CHECK(t.find("\xe2\x81\xa6") == std::string::npos);
    CHECK(t.find("\xe2\x81\xa9") == std::string::npos);
    CHECK_MESSAGE(t.find("Caf\xc3\xa9 evilx \xd7\xa9\xe2\x80\x8f") != std::string::npos, t); // Hebrew shin and RLM kept
    check_one_line_safe(t);
}

TEST_CASE("hostile values: characters that show nothing are dropped (tag characters spell text no reader sees), the joiners stay") {
    // U+200B, U+2060, U+FEFF, U+FFF9, and "hi" in tag characters (U+E0068 U+E0069); ZWNJ U+200C in a Persian word kept.
    const auto t = Captioner{}.title(Object{{"amenity", "cafe"},
                                            {"name", "a\xe2\x80\x8b" "b\xe2\x81\xa0" "c\xef\xbb\xbf" "d\xef\xbf\xb9" "e\xf3\xa0\x81\xa8\xf3\xa0\x81\xa9" "f "
                                                     "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xb1\xd9\x88\xd9\x85"}});
    CHECK_MESSAGE(t.find("abcdef \xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xb1\xd9\x88\xd9\x85") != std::string::npos, t); // before: each kept
    check_one_line_safe(t);
}

TEST_CASE("hostile values: quotes, commas, semicolons and OSM multi-values") {
    const auto t = Captioner{}.title(Object{{"leisure", "pitch"}, {"sport", "soccer;basketball"}, {"surface", "\"grass\", artificial"}});
    CHECK(body(t) == "leisure of pitch, sport of soccer/basketball, surface of \"grass\", artificial");
    check_one_line_safe(t);
    // The caption's own object separator "; " never comes from a value.
    const auto m = Captioner{}.title_multi_objects(Object{{"leisure", "pitch"}, {"sport", "a;b;c"}}, {});
    CHECK(m.find(';') == std::string::npos);
}

TEST_CASE("hostile values: very long values are cut at the documented limit") {
    const std::string longv(1000, 'x');
    const auto t = Captioner{}.title(Object{{"landuse", longv}});
    CHECK(body(t) == "landuse of " + std::string(64, 'x') + "...");
    // Cut at a character boundary, never inside a multi-byte character.
    std::string greek;
    for (int i = 0; i < 100; ++i) greek += "\xCE\xB1"; // α
    const auto g = Captioner{}.title(Object{{"landuse", greek}});
    check_one_line_safe(g);
    CHECK(body(g).size() <= std::string("landuse of ").size() + 64 + 3);
    CaptionOptions wide;
    wide.max_value_bytes = 2000;
    CHECK(body(Captioner{CaptionTables::builtin(), wide}.title(Object{{"landuse", longv}})) == "landuse of " + longv);
}

TEST_CASE("hostile values: invalid UTF-8 becomes U+FFFD, valid UTF-8 stays") {
    const auto t = Captioner{}.title(Object{{"natural", "wood\xff\xfe"}, {"leaf_type", "caf\xC3\xA9"}});
    CHECK(body(t) == "natural wood\xEF\xBF\xBD\xEF\xBF\xBD, leaf type of caf\xC3\xA9");
    check_one_line_safe(t);
    check_one_line_safe(Captioner{}.title(Object{{"natural", "\xC3"}}));              // truncated sequence
    check_one_line_safe(Captioner{}.title(Object{{"natural", "\xED\xA0\x80"}}));      // UTF-16 surrogate
    check_one_line_safe(Captioner{}.title(Object{{"natural", "a\xE2\x80\xA8" "b"}})); // U+2028 line separator
    CHECK(body(Captioner{}.title(Object{{"natural", "a\xE2\x80\xA8" "b"}})) == "natural a b");
}

TEST_CASE("hostile values: empty and blank values and keys give no phrase") {
    CHECK(single({{"landuse", ""}, {"crop", "rice"}}) == "crop of rice");
    CHECK(single({{"landuse", "   "}, {"crop", "rice"}}) == "crop of rice");
    CHECK(single({{"", "x"}, {"crop", "rice"}}) == "crop of rice");
    CHECK(Captioner{}.title(Object{{"landuse", ""}}) == "a satellite image");
    CHECK(single({{"landuse", "  quarry  "}}) == "landuse of quarry");
}

TEST_CASE("tables are data: other renames, class keys and priorities change captions") {
    const auto tables = CaptionTables::parse("highway\tstreet\nleisure\tleisure area\n", "# c\nleisure\n", "crop\nlanduse\n");
    const Captioner c{tables};
    CHECK(c.title(Object{{"landuse", "farmland"}, {"crop", "rice"}}) == "a satellite image of crop of rice, landuse of farmland");
    CHECK(c.title(Object{{"leisure", "park"}}) == "a satellite image of leisure area park");
    CHECK(c.title(Object{{"highway", "path"}}) == "a satellite image of street of path");
    CHECK(c.title(Object{{"power", "pole"}}) == "a satellite image of power of pole");
}

TEST_CASE("append_caption_text rules for keys and values") {
    std::string out;
    append_caption_text(out, "plant:output:electricity", TextPart::key, 100);
    CHECK(out == "plant output electricity");
    out.clear();
    append_caption_text(out, "a:b_c", TextPart::value, 100);
    CHECK(out == "a:b c");
}

TEST_CASE("`skyscript-build caption` prints title and title_multi_objects") {
    const auto r = run(sh_quote(skyscript::test::binary()) + " caption power=pole --around power=minor_line,cables=3,voltage=16000");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "a satellite image of power pole\n"
                   "a satellite image of power pole, surrounded by power minor line with cables of 3 and voltage of 16000\n");
    const auto hostile = run(sh_quote(skyscript::test::binary()) + " caption " + sh_quote("landuse=a\nb\tc") + " --around " + sh_quote("natural=tree;x"));
    CHECK(hostile.exit_code == 0);
    CHECK(skyscript::test::lines(hostile.out).size() == 2);
    CHECK(hostile.out == "a satellite image of landuse of a b c\na satellite image of landuse of a b c, surrounded by natural tree/x\n");
    // python3 reads the lines as strict UTF-8 and its csv module round-trips them.
    const auto py = run(sh_quote(skyscript::test::binary()) + " caption " + sh_quote("natural=wood\xff,\"x\"") +
                        " | python3 -c " + sh_quote("import sys,csv,io\n"
                                                    "lines=sys.stdin.buffer.read().decode('utf-8').splitlines()\n"
                                                    "buf=io.StringIO(); csv.writer(buf).writerow(['f.jpg']+lines)\n"
                                                    "rows=list(csv.reader(io.StringIO(buf.getvalue())))\n"
                                                    "assert rows==[['f.jpg']+lines], rows\nprint(len(rows[0]))"));
    CHECK(py.exit_code == 0);
    CHECK(py.out == "3\n");
    const auto bad = run(sh_quote(skyscript::test::binary()) + " caption nonsense");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("KEY=VALUE") != std::string::npos);
}

// ---- natural style -------------------------------------------------------------

namespace {

const NameTable& names() {
    static const NameTable t = NameTable::parse(
        "amenity=parking\tparking lot\nhighway=residential\tresidential road\nbuilding=*\tbuilding\n"
        "building=yes\tbuilding\nsurface=*\tsurface\nsurface=asphalt\tasphalt\nroof:shape=*\troof shape\n"
        "natural=tree\ttree\nleisure=pitch\tpitch\npower=plant\tpower plant\namenity=place_of_worship\tplace of worship\n"
        "amenity=bench\tbench\nlanes=*\tlanes\n");
    return t;
}

std::string natural_title(const Object& o) { return NaturalCaptioner{names()}.title(o); }
std::string natural_multi(const Object& focus, const std::vector<Object>& around, CaptionOptions opt = {}) {
    std::vector<TagSet> sets(around.begin(), around.end());
    return NaturalCaptioner{names(), CaptionTables::builtin(), opt}.title_multi_objects(focus, sets);
}

} // namespace

TEST_CASE("natural style: the issue's example, with articles, counts and plurals") {
    const Object parking{{"amenity", "parking"}, {"surface", "asphalt"}};
    const Object road{{"highway", "residential"}}, building{{"building", "yes"}};
    CHECK(natural_title(parking) == "a satellite image of a parking lot with an asphalt surface");
    CHECK(natural_multi(parking, {road, building, building}) ==
          "a satellite image of a parking lot with an asphalt surface, next to a residential road and two buildings");
    CHECK(natural_multi(parking, {building, road, building, {{"natural", "tree"}}}) ==
          "a satellite image of a parking lot with an asphalt surface, next to two buildings, a residential road and a tree");
}

TEST_CASE("natural style: adjectives before the noun, numbers, unnamed tags") {
    CHECK(natural_title({{"power", "plant"}, {"plant:source", "solar"}}) == "a satellite image of a solar power plant");
    CHECK(natural_title({{"leisure", "pitch"}, {"sport", "tennis"}}) == "a satellite image of a tennis pitch");
    CHECK(natural_title({{"building", "yes"}, {"roof:shape", "gabled"}}) == "a satellite image of a building with a gabled roof shape");
    CHECK(natural_title({{"highway", "residential"}, {"lanes", "2"}}) == "a satellite image of a residential road with 2 lanes");
    CHECK(natural_title({{"landuse", "quarry"}}) == "a satellite image of a quarry"); // no name: the value
    CHECK(natural_title({{"building", "yes"}, {"covered", "yes"}}) == "a satellite image of a building");
}

TEST_CASE("natural style: English helpers") {
    CHECK(with_article("asphalt surface") == "an asphalt surface");
    CHECK(with_article("tree") == "a tree");
    CHECK(with_article("university") == "a university");
    CHECK(plural("bench") == "benches");
    CHECK(plural("place of worship") == "places of worship");
    CHECK(plural("factory") == "factories");
    CHECK(plural("highway") == "highways");
    CHECK(plural("grass") == "grasses");
    CHECK(count_phrase(1, "tree") == "a tree");
    CHECK(count_phrase(3, "bench") == "three benches");
    CHECK(count_phrase(40, "tree") == "40 trees");
}

TEST_CASE("natural style: the surrounding cap counts distinct kinds; hostile values stay one line") {
    CaptionOptions one;
    one.max_surrounding = 1;
    CHECK(natural_multi({{"amenity", "parking"}}, {{{"natural", "tree"}}, {{"natural", "tree"}}, {{"amenity", "bench"}}}, one) ==
          "a satellite image of a parking lot, next to two trees");
    const auto t = natural_multi({{"amenity", "parking"}, {"surface", "as\nph\talt\xff"}}, {{{"landuse", "x;y\r\nz"}}});
    check_one_line_safe(t);
    CHECK(t == "a satellite image of a parking lot with an as ph alt\xEF\xBF\xBD surface, next to a x/y z");
}

TEST_CASE("`caption --caption-style natural` prints four lines from the generated names") {
    const auto r = run(sh_quote(skyscript::test::binary()) +
                       " caption amenity=parking surface=asphalt --around highway=residential --around building=yes"
                       " --around building=yes --caption-style natural");
    CHECK(r.exit_code == 0);
    const auto l = skyscript::test::lines(r.out);
    REQUIRE(l.size() == 4);
    CHECK(l[2] == "a satellite image of a parking lot with an asphalt surface");
    CHECK(l[3] == "a satellite image of a parking lot with an asphalt surface, next to a residential road and two buildings");
    CHECK(run(sh_quote(skyscript::test::binary()) + " caption a=b --caption-style fancy").exit_code == 2);
}

// ---- the vocabulary between tags and captions ------------------------------------

namespace {

using skyscript::tags::DropReason;
using skyscript::tags::TagView;

const skyscript::tags::TagMatcher& test_matcher() {
    static const auto list = skyscript::tags::TagList::parse(
        "amenity=parking\tfeature\t1\nnatural=tree\tfeature\t0.6\nhighway=motorway\tfeature\t10\n"
        "surface=*\tattribute\t0.6\nlanes=*\tattribute\t1\nname\tdeny\naddr:*\tdeny\n", "test.tsv");
    static const skyscript::tags::TagMatcher m{list};
    return m;
}

std::vector<std::string> kept(const std::vector<TagView>& tags, double gsd, std::vector<skyscript::tags::DroppedTag>* dropped = nullptr) {
    std::vector<std::string> out;
    for (const auto& [k, v] : skyscript::tags::visible_tags(test_matcher(), tags, gsd, dropped))
        out.push_back(std::string(k) + "=" + std::string(v));
    return out;
}

std::string caption_cmd(const std::string& args) { return sh_quote(skyscript::test::binary()) + " caption " + args; }

} // namespace

TEST_CASE("visible_tags: listed tags only, visible at the GSD, and only with a feature") {
    const std::vector<TagView> parking{{"name", "P1"}, {"amenity", "parking"}, {"surface", "asphalt"}, {"addr:street", "Rue"}, {"fee", "yes"}};
    std::vector<skyscript::tags::DroppedTag> dropped;
    // Denied and unknown tags go, each with its reason; input order is kept.
    CHECK(kept(parking, 0.5, &dropped) == std::vector<std::string>{"amenity=parking", "surface=asphalt"});
    REQUIRE(dropped.size() == 3);
    CHECK((dropped[0].index == 0 && dropped[0].reason == DropReason::denied));
    CHECK((dropped[1].index == 3 && dropped[1].reason == DropReason::denied));
    CHECK((dropped[2].index == 4 && dropped[2].reason == DropReason::not_listed));
    // An image of 1 m cannot show the surface (0.6 m); 0.6 m (even as computed, a hair
    // coarser) and no GSD at all can.
    dropped.clear();
    CHECK(kept(parking, 1, &dropped) == std::vector<std::string>{"amenity=parking"});
    REQUIRE(dropped.size() == 4);
    CHECK((dropped[1].index == 2 && dropped[1].reason == DropReason::finer_than_gsd));
    CHECK(kept(parking, 0.6 * (1 + 1e-9)) == std::vector<std::string>{"amenity=parking", "surface=asphalt"});
    CHECK(kept(parking, 0.61) == std::vector<std::string>{"amenity=parking"});
    CHECK(kept(parking, 0) == std::vector<std::string>{"amenity=parking", "surface=asphalt"});
    // No feature left: the whole object goes, its attributes with `no_feature`.
    const std::vector<TagView> tree{{"natural", "tree"}, {"lanes", "2"}};
    dropped.clear();
    CHECK(kept(tree, 1, &dropped).empty());
    REQUIRE(dropped.size() == 2);
    CHECK(dropped[0].reason == DropReason::finer_than_gsd);
    CHECK(dropped[1].reason == DropReason::no_feature);
    CHECK(kept({{"surface", "asphalt"}, {"lanes", "2"}}, 0.1).empty());
    CHECK(kept({{"highway", "motorway"}, {"lanes", "2"}}, 10) == std::vector<std::string>{"highway=motorway"});
}

TEST_CASE("`caption` drops denied and unknown tags as the pipeline does, and says so in one line") {
    const auto denied = run(caption_cmd("name=Foo addr:street=Bar"));
    CHECK(denied.exit_code == 1);
    CHECK(denied.out.empty());
    REQUIRE(skyscript::test::lines(denied.err).size() == 1);
    CHECK(denied.err.find("name=Foo (denied key)") != std::string::npos);
    CHECK(denied.err.find("addr:street=Bar (denied key)") != std::string::npos);

    const auto r = run(caption_cmd("building=yes name=Foo addr:street=Bar office=energy_supplier --around highway=footway,name=Path"));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "a satellite image of building\na satellite image of building, surrounded by road of footway\n");
    REQUIRE(skyscript::test::lines(r.err).size() == 1);
    CHECK(r.err == "skyscript-build caption: dropped name=Foo (denied key), addr:street=Bar (denied key), "
                   "office=energy_supplier (not in the vocabulary); --around 1: name=Path (denied key)\n");
    // -q: the captions only.
    const auto q = run(caption_cmd("-q building=yes name=Foo"));
    CHECK(q.exit_code == 0);
    CHECK(q.err.empty());
    CHECK(q.out == "a satellite image of building\na satellite image of building\n");
}

TEST_CASE("`caption --gsd`: tags not visible at the image's GSD are dropped, as the planner drops them") {
    const auto r = run(caption_cmd("landuse=farmland crop=rice surface=dirt --around natural=tree --around highway=motorway,surface=asphalt --gsd 10"));
    CHECK(r.exit_code == 0);
    // Farmland and its crop show at 10 m, its surface does not; the tree (0.6 m) is left out
    // whole, the motorway (10 m) loses its surface.
    CHECK(r.out == "a satellite image of landuse of farmland, crop of rice\n"
                   "a satellite image of landuse of farmland with crop of rice, surrounded by road of motorway\n");
    CHECK(r.err == "skyscript-build caption: dropped surface=dirt (max GSD 0.6 m, finer than 10 m); "
                   "--around 1 (left out): natural=tree (max GSD 0.6 m, finer than 10 m); "
                   "--around 2: surface=asphalt (max GSD 0.6 m, finer than 10 m)\n");
    const auto fine = run(caption_cmd("-q amenity=parking --around natural=tree --gsd 0.3"));
    CHECK(fine.out == "a satellite image of amenity of parking\na satellite image of amenity of parking, surrounded by natural tree\n");
    // A focus object its image cannot show is not captioned: the planner never makes that image.
    const auto coarse = run(caption_cmd("natural=tree --gsd 10"));
    CHECK(coarse.exit_code == 1);
    CHECK(coarse.out.empty());
    CHECK(coarse.err.find("natural=tree (max GSD 0.6 m, finer than 10 m)") != std::string::npos);
    CHECK(run(caption_cmd("amenity=parking --gsd 0")).exit_code == 2);
    CHECK(run(caption_cmd("amenity=parking --gsd fast")).exit_code == 2);
}

TEST_CASE("`caption --tags FILE|+FILE`: the tag list the pipeline would use") {
    const auto dir = skyscript::test::fresh_dir("caption_tags");
    skyscript::test::write_file(dir + "/add.tsv", "office=energy_supplier\tfeature\t1\nname=*\tattribute\t1\n");
    skyscript::test::write_file(dir + "/only.tsv", "amenity=fountain\tfeature\t0.6\n");
    const auto added = run(caption_cmd("-q building=yes office=energy_supplier name=Foo --tags +" + sh_quote(dir + "/add.tsv")));
    CHECK(added.exit_code == 0);
    CHECK(skyscript::test::lines(added.out).at(0) == "a satellite image of building, office of energy supplier, name of Foo");
    const auto only = run(caption_cmd("building=yes amenity=fountain --tags " + sh_quote(dir + "/only.tsv")));
    CHECK(only.exit_code == 0);
    CHECK(skyscript::test::lines(only.out).at(0) == "a satellite image of amenity of fountain");
    CHECK(only.err.find("building=yes (not in the vocabulary)") != std::string::npos);
    const auto missing = run(caption_cmd("building=yes --tags " + sh_quote(dir + "/none.tsv")));
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("none.tsv") != std::string::npos);
}

TEST_CASE("`caption --around` takes a JSON object, so values may hold commas") {
    const auto r = run(caption_cmd("power=plant --around " +
                                   sh_quote(R"({"power":"plant","plant:output:electricity":"19,9 MW","name":"Centrale, Est"})")));
    CHECK(r.exit_code == 0);
    CHECK(skyscript::test::lines(r.out).at(1) ==
          "a satellite image of power plant, surrounded by power plant with plant output electricity of 19,9 MW");
    CHECK(r.err == "skyscript-build caption: dropped --around 1: name=Centrale, Est (denied key)\n");
    // The focus too, as the catalog's `tags` column holds it; mixed with the comma form.
    const auto j = run(caption_cmd(sh_quote(R"({"landuse":"farmland","crop":"a, b"})") + " --around highway=footway -q"));
    CHECK(j.out == "a satellite image of landuse of farmland, crop of a, b\n"
                   "a satellite image of landuse of farmland with crop of a, b, surrounded by road of footway\n");
    for (const char* bad : {R"({"power":)", R"(["power","plant"])", R"({"lanes":2})"}) {
        const auto e = run(caption_cmd("power=plant --around " + sh_quote(bad)));
        CHECK(e.exit_code == 2);
        CHECK(skyscript::test::lines(e.err).size() == 1);
        CHECK(e.err.find("--around") != std::string::npos);
    }
    const auto help = run(caption_cmd("--help"));
    CHECK(help.out.find("19,9 MW") != std::string::npos);
}

TEST_CASE("layer and level never reach a caption: Monaco's objects through extract and caption") {
    // Real objects: w176752959, a primary road at layer=-1 (not a tunnel), w93137594 a secondary
    // road on a bridge at layer=1, w49209341 a building at layer=1.
    const auto pbf = skyscript::test::data("osm/monaco-latest.osm.pbf");
    const auto dir = skyscript::test::fresh_dir("caption_layer");
    REQUIRE(run(sh_quote(skyscript::test::binary()) + " extract -q " + sh_quote(pbf) + " -o " + sh_quote(dir)).exit_code == 0);
    const auto gpkg = dir + "/catalog.gpkg";
    for (const char* id : {"93137594", "49209341"}) {
        const auto tags = skyscript::test::sql_column(gpkg, std::string("SELECT tags FROM objects WHERE osm_type = 'w' AND osm_id = ") + id);
        REQUIRE(tags.size() == 1);
        CHECK(tags[0].find("layer") == std::string::npos);
    }
    CHECK(skyscript::test::sql_int(gpkg, "SELECT count(*) FROM objects WHERE tags LIKE '%\"layer\"%' OR tags LIKE '%\"level\"%'") == 0);
    // The road's own OSM tags, as osmium prints them, straight into `caption`, both styles.
    const auto opl = run("osmium getid -f opl " + sh_quote(pbf) + " w176752959");
    REQUIRE(opl.exit_code == 0);
    const auto t = opl.out.find(" T");
    REQUIRE(t != std::string::npos);
    std::string args;
    const auto tag_text = opl.out.substr(t + 2, opl.out.find(' ', t + 2) - t - 2);
    for (std::size_t start = 0; start <= tag_text.size();) {
        const auto comma = std::min(tag_text.find(',', start), tag_text.size());
        std::string tag = tag_text.substr(start, comma - start);
        for (std::size_t p; (p = tag.find("%20%")) != std::string::npos;) tag.replace(p, 4, 1, ' ');
        args += ' ';  // not `" " + ...`: GCC 12 reports a false -Wrestrict there
        args += sh_quote(tag);
        start = comma + 1;
    }
    CHECK(args.find("layer=-1") != std::string::npos);
    const auto r = run(caption_cmd(args + " --caption-style natural"));
    CHECK(r.exit_code == 0);
    const auto l = skyscript::test::lines(r.out);
    REQUIRE(l.size() == 4);
    for (const auto& line : l) {
        CHECK(line.find("layer") == std::string::npos);
        CHECK(line.find("-1") == std::string::npos);
    }
    CHECK(l[2].starts_with("a satellite image of a primary road"));
    CHECK(r.err.find("layer=-1 (denied key)") != std::string::npos);
    const auto level = run(caption_cmd("-q highway=footway level=0 layer=-1 building:levels:underground=2 --caption-style natural"));
    CHECK(level.out == "a satellite image of road of footway\na satellite image of road of footway\n"
                       "a satellite image of a foot path\na satellite image of a foot path\n");
}

TEST_CASE("a focus value a caption makes nothing of (`_`, `;;;`) is no feature: no caption of \"a satellite image\" alone (red-team round 26)") {
    for (const std::string tags : {"building=_", "building=';;;'", "'landuse=_' surface=asphalt"}) {
        const auto r = run(caption_cmd(tags));
        INFO(tags, r.out, r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("keeps no feature tag") != std::string::npos);
        CHECK(r.out.find("a satellite image") == std::string::npos);
    }
}

TEST_CASE("hostile values: a yes with a stray space or an invisible character reads as yes (red-team round 28)") {
    for (const std::string yes : {"yes ", " yes", "yes\xe2\x80\x8b", "yes\t"}) {
        CAPTURE(yes);
        CHECK(body(Captioner{}.title(Object{{"building", yes}})) == "building"); // before: "building of yes"
        CHECK(natural_title(Object{{"building", yes}}) == natural_title(Object{{"building", "yes"}}));
    }
    CHECK(body(Captioner{}.title(Object{{"building", "yes;no"}})) == "building of yes/no"); // not a yes
    CHECK(body(Captioner{}.title(Object{{"building", "Yes"}})) == "building of Yes");        // OSM values are case-sensitive, as in SkyScript
}
