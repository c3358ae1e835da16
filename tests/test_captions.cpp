// SkyScript's caption rules: SPEC section 6's vectors byte for byte, surroundings,
// hostile values, tables as data, and the `caption` command.

#include "caption_text.hpp"
#include "captioner.hpp"
#include "natural_captioner.hpp"
#include "test_support.hpp"

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
    const auto hostile = run(sh_quote(skyscript::test::binary()) + " caption " + sh_quote("amenity=a\nb\tc") + " --around " + sh_quote("natural=tree;x"));
    CHECK(hostile.exit_code == 0);
    CHECK(skyscript::test::lines(hostile.out).size() == 2);
    CHECK(hostile.out == "a satellite image of amenity of a b c\na satellite image of amenity of a b c, surrounded by natural tree/x\n");
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
