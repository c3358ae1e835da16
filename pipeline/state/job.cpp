#include "pipeline/state/job.hpp"

#include "imagery/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace skyscript::pipeline {

std::string tried_sources_text(const std::vector<TriedSource>& tried) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : tried) out.push_back({t.source, t.reason});
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<TriedSource> parse_tried_sources(const std::string& text) {
    std::vector<TriedSource> out;
    const auto j = imagery::parse_json_within_depth(text);
    if (!j.is_array()) return out;
    for (const auto& t : j)
        if (t.is_array() && t.size() == 2 && t[0].is_string() && t[1].is_string()) out.push_back({t[0].get<std::string>(), t[1].get<std::string>()});
    return out;
}

std::vector<std::pair<std::string, std::string>> fallback_hops(const std::string& source, const std::vector<TriedSource>& tried) {
    std::vector<std::pair<std::string, std::string>> hops;
    for (std::size_t i = 0; i + 1 < tried.size(); ++i) hops.emplace_back(tried[i].source, tried[i + 1].source);
    if (!tried.empty() && tried.back().source != source) hops.emplace_back(tried.back().source, source);
    return hops;
}

} // namespace skyscript::pipeline
