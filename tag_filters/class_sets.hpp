#pragma once
// SkyScript's classification sets as data (skyscript_classes.tsv: SkyScript_cls's 70
// classes, roof shape, road smoothness, road surface) and the rule that labels an object:
//
//   set <TAB> class name <TAB> alternative | alternative ...   (an alternative: k=v+k=v, v `*` = any)
//
// An object is of a class when its tags carry every tag of one of the class's alternatives.
// The class names are the label strings SkyScript's evaluation uses (classnames.txt).

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::tags {

struct ClassDef {
    std::string name;
    std::vector<std::vector<std::pair<std::string, std::string>>> alternatives;
};

struct ClassSet {
    std::string name; // the file's set column: cls, roof_shape, road_smoothness, road_surface
    std::vector<ClassDef> classes;
};

// Sets in the order they first appear; errors (TagListError) name `source` and the line.
std::vector<ClassSet> parse_class_sets(std::string_view text, const std::string& source);
// tag_filters/skyscript_classes.tsv, built in.
const std::vector<ClassSet>& builtin_class_sets();

constexpr int no_class = -1, several_classes = -2;
// The index of the one class of `set` that `tags` satisfy, no_class, or several_classes
// (an object of two classes of one set labels neither: a benchmark label must be unambiguous).
int match_class(const ClassSet& set, const std::map<std::string, std::string>& tags);

} // namespace skyscript::tags
