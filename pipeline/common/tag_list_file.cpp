#include "pipeline/common/tag_list_file.hpp"

#include "pipeline/common/text_file.hpp"

namespace skyscript::pipeline {

namespace {

tags::TagList parse_list_file(const std::string& path) {
    std::string why;
    const auto text = read_text_file(path, &why);
    // A missing file keeps the short message scripts know; anything else says why.
    if (!text) throw tags::TagListError(path + ": cannot open tag list" + (why == "no such file" ? "" : " (" + why + ")"));
    return tags::TagList::parse(*text, path);
}

} // namespace

tags::TagList load_tag_option(const std::string& option) {
    if (option.empty()) return tags::TagList::builtin();
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

} // namespace skyscript::pipeline
