// Fuzz target: the tag-list parser (tag_filters/tag_list.*) on any text, the matcher built
// from what it accepts, the merge onto the built-in list, and the `--tags` loader
// (pipeline/common/tag_list_file.*) reading the same text from a file.
//
// Invariants: errors are TagListError, one line, naming the source; an accepted list has
// the shape the format promises (non-empty keys without `=`, GSD in (0, 1000], no duplicate
// entry) and the matcher finds every listed key=value that is not denied, as listed.

#include "fuzz_check.hpp"
#include "tag_filters/tag_list.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "temp_input_file.hpp"

#include <optional>
#include <set>
#include <string>
#include <tuple>

using skyscript::tags::Role;
using skyscript::tags::TagEntry;
using skyscript::tags::TagList;
using skyscript::tags::TagListError;
using skyscript::tags::TagMatcher;

namespace {

void check_error(const TagListError& e, const std::string& source) {
    const std::string what = e.what();
    FUZZ_CHECK(what.starts_with(source + ":"), what);
    FUZZ_CHECK(what.find('\n') == std::string::npos, what);
}

void check_entries(const TagList& list) {
    std::set<std::tuple<std::string, std::string, bool>> ids;
    for (const auto& e : list.entries()) {
        FUZZ_CHECK(!e.key.empty(), "empty key");
        FUZZ_CHECK(e.key.find('=') == std::string::npos, e.key);
        FUZZ_CHECK(e.key.find_first_of(" \t\n#") == std::string::npos, e.key);
        FUZZ_CHECK(!e.value.empty(), e.key);
        if (e.role != Role::deny) FUZZ_CHECK(e.max_gsd > 0 && e.max_gsd <= 1000, e.key + "=" + e.value);
        FUZZ_CHECK(ids.emplace(e.key, e.value, e.role == Role::deny).second, "duplicate " + e.key + "=" + e.value);
    }
}

// Every key=value (not a wildcard) of `wanted` that `list` does not deny is found in its
// matcher as `wanted` lists it.
void check_matcher(const TagList& list, const TagList& wanted) {
    const TagMatcher m{list};
    for (const auto& e : wanted.entries()) {
        if (e.role == Role::deny || e.value == "*" || m.denied(e.key)) continue;
        const TagEntry* found = m.find(e.key, e.value);
        FUZZ_CHECK(found != nullptr, e.key + "=" + e.value + " listed but not found");
        FUZZ_CHECK(found->key == e.key && found->value == e.value, e.key + "=" + e.value);
        FUZZ_CHECK(found->role == e.role && found->max_gsd == e.max_gsd, e.key + "=" + e.value);
    }
}

bool same_entries(const TagList& a, const TagList& b) {
    if (a.entries().size() != b.entries().size()) return false;
    for (std::size_t i = 0; i < a.entries().size(); ++i) {
        const auto &x = a.entries()[i], &y = b.entries()[i];
        if (x.key != y.key || x.value != y.value || x.role != y.role || x.max_gsd != y.max_gsd) return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const TagList builtin = TagList::builtin();
    const std::string text(reinterpret_cast<const char*>(data), size);

    std::optional<TagList> list;
    try {
        list = TagList::parse(text, "fuzz.tsv");
    } catch (const TagListError& e) {
        check_error(e, "fuzz.tsv");
    }
    // Onto the built-in list (+FILE): ours win; only our entries are checked, the built-in
    // ones are the vocabulary's tests' business. Parsing, copying and indexing the built-in
    // thousand entries costs ten times the rest, so only inputs whose size is a multiple
    // of 8 take this path (fixed per input: a replay does what the fuzzer did).
    const bool onto_builtin = size % 8 == 0;
    std::optional<TagList> merged;
    if (list) {
        check_entries(*list);
        check_matcher(*list, *list);
    }
    if (list && onto_builtin) {
        merged = builtin;
        merged->merge(*list);
        check_matcher(*merged, *list);
    }

    // The same text as a --tags file, replacing and (+FILE) extending the built-in list:
    // what the parser makes of it less a leading byte order mark, which the loader drops.
    const std::string path = skyscript::fuzz::write_temp_file("tags.tsv", text);
    const std::string bom = "\xEF\xBB\xBF";
    if (text.starts_with(bom)) {
        list.reset();
        merged.reset();
        try {
            list = TagList::parse(std::string_view(text).substr(bom.size()), path);
            if (onto_builtin) {
                merged = builtin;
                merged->merge(*list);
            }
        } catch (const TagListError&) {
        }
    }
    for (const std::string& option : {path, "+" + path}) {
        if (option.front() == '+' && !onto_builtin) continue;
        try {
            const TagList loaded = skyscript::pipeline::load_tag_option(option);
            FUZZ_CHECK(list.has_value(), option + " loaded text the parser refused");
            if (option.front() == '+') {
                FUZZ_CHECK(same_entries(loaded, *merged), option);
            } else {
                FUZZ_CHECK(same_entries(loaded, *list), option);
                FUZZ_CHECK(loaded.count(Role::feature) > 0, option + " accepted without a feature entry");
            }
        } catch (const TagListError& e) {
            check_error(e, path);
        }
    }
    return 0;
}
