#include "tag_filters/line_fields.hpp"

#include "tag_filters/utf8_text.hpp"

namespace skyscript::tags {

void for_each_record(std::string_view text,
                     const std::function<void(std::size_t, const std::vector<std::string_view>&)>& record) {
    std::size_t line_no = 0;
    std::vector<std::string_view> fields;
    text = without_bom(text); // else it glues itself to the first entry's key
    while (!text.empty()) {
        const auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        fields.clear();
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i >= line.size()) break;
            std::size_t j = i;
            while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
            fields.push_back(line.substr(i, j - i));
            i = j;
        }
        if (!fields.empty()) record(line_no, fields);
    }
}

} // namespace skyscript::tags
