#include "captions/caption_tables.hpp"


#include <stdexcept>
#include <vector>

namespace skyscript::embedded {
std::string_view key_renames_tsv();
std::string_view class_keys_txt();
std::string_view feature_priority_txt();
std::string_view natural_adjective_keys_txt();
} // namespace skyscript::embedded

namespace skyscript::captions {

std::vector<std::string_view> data_lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

namespace {

} // namespace

CaptionTables CaptionTables::parse(std::string_view renames, std::string_view class_keys, std::string_view priority,
                                   std::string_view adjective_keys) {
    CaptionTables t;
    for (auto line : data_lines(renames)) {
        const auto tab = line.find('\t');
        if (tab == std::string_view::npos) throw std::invalid_argument("key renames: expected key<TAB>text in `" + std::string(line) + "`");
        t.key_renames.emplace(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
    }
    for (auto line : data_lines(class_keys)) t.class_keys.emplace(line);
    int rank = 0;
    for (auto line : data_lines(priority)) t.priority.emplace(std::string(line), rank++);
    for (auto line : data_lines(adjective_keys)) t.adjective_keys.emplace(line);
    return t;
}

const CaptionTables& CaptionTables::builtin() {
    static const CaptionTables tables = parse(skyscript::embedded::key_renames_tsv(), skyscript::embedded::class_keys_txt(),
                                              skyscript::embedded::feature_priority_txt(),
                                              skyscript::embedded::natural_adjective_keys_txt());
    return tables;
}

} // namespace skyscript::captions
