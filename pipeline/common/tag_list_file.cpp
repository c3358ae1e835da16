#include "pipeline/common/tag_list_file.hpp"

#include "pipeline/common/text_file.hpp"

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace skyscript::pipeline {

namespace {

tags::TagList parse_list_file(const std::string& path) {
    std::string why;
    const auto text = read_text_file(path, &why);
    if (!text) throw tags::TagListError(path + ": cannot open tag list (" + why + ")");
    return tags::TagList::parse(*text, path);
}

} // namespace

tags::TagList load_tag_option(const std::string& option) {
    if (option.empty()) return tags::TagList::builtin();
    if (option == "+") throw tags::TagListError("--tags +: no file after `+` (+FILE adds FILE's tags to the default list)");
    if (option.front() == '+') {
        auto list = tags::TagList::builtin();
        list.merge(parse_list_file(option.substr(1)));
        return list;
    }
    auto list = parse_list_file(option);
    if (list.count(tags::Role::feature) == 0)
        throw tags::TagListError(option + ": no feature entries: nothing could be a focus object");
    return list;
}

std::string tag_list_digest(const tags::TagList& list) {
    std::uint64_t h = 14695981039346656037ULL; // FNV-1a, 64 bits: stable across runs and machines
    const auto add = [&](std::string_view bytes) {
        for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
        h = (h ^ 0xFF) * 1099511628211ULL; // a field's end: "ab","c" is not "a","bc"
    };
    char gsd[32];
    for (const auto& e : list.entries()) {
        add(e.key);
        add(e.value);
        add(tags::role_name(e.role));
        std::snprintf(gsd, sizeof gsd, "%.17g", e.max_gsd);
        add(gsd);
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

} // namespace skyscript::pipeline
