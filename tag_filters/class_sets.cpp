#include "tag_filters/class_sets.hpp"

#include "tag_filters/tag_list.hpp"

namespace skyscript::embedded {
std::string_view skyscript_classes_tsv();
}

namespace skyscript::tags {

namespace {

std::vector<std::string_view> split_on(std::string_view s, std::string_view sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos) return out;
        s.remove_prefix(at + sep.size());
    }
}

} // namespace

std::vector<ClassSet> parse_class_sets(std::string_view text, const std::string& source) {
    std::vector<ClassSet> sets;
    int line_no = 0;
    for (const auto line_view : split_on(text, "\n")) {
        ++line_no;
        std::string_view line = line_view;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line[0] == '#') continue;
        const auto bad = [&](const std::string& what) { throw TagListError(source + ":" + std::to_string(line_no) + ": " + what); };
        const auto fields = split_on(line, "\t");
        if (fields.size() != 3 || fields[0].empty() || fields[1].empty()) bad("expected set<TAB>class<TAB>alternatives");
        ClassDef def{std::string(fields[1]), {}};
        for (const auto alt : split_on(fields[2], " | ")) {
            auto& tags = def.alternatives.emplace_back();
            for (const auto kv : split_on(alt, "+")) {
                const auto eq = kv.find('=');
                if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) bad(std::string(kv) + " is not key=value");
                tags.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
            }
        }
        ClassSet* set = nullptr;
        for (auto& s : sets)
            if (s.name == fields[0]) set = &s;
        if (!set) set = &sets.emplace_back(ClassSet{std::string(fields[0]), {}});
        for (const auto& c : set->classes)
            if (c.name == def.name) bad(def.name + ": class appears twice in set " + set->name);
        set->classes.push_back(std::move(def));
    }
    return sets;
}

const std::vector<ClassSet>& builtin_class_sets() {
    static const auto sets = parse_class_sets(embedded::skyscript_classes_tsv(), "skyscript_classes.tsv");
    return sets;
}

int match_class(const ClassSet& set, const std::map<std::string, std::string>& tags) {
    int found = no_class;
    for (std::size_t i = 0; i < set.classes.size(); ++i) {
        bool is = false;
        for (const auto& alt : set.classes[i].alternatives) {
            bool all = true;
            for (const auto& [k, v] : alt) {
                const auto it = tags.find(k);
                if (it == tags.end() || (v != "*" && it->second != v)) {
                    all = false;
                    break;
                }
            }
            if (all) {
                is = true;
                break;
            }
        }
        if (!is) continue;
        if (found != no_class) return several_classes;
        found = static_cast<int>(i);
    }
    return found;
}

} // namespace skyscript::tags
