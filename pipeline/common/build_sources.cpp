#include "pipeline/common/build_sources.hpp"

#include "imagery/source_kind.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace skyscript::pipeline {

std::vector<imagery::SourceConfig> configured_sources(const std::string& option) {
    if (option.empty()) return imagery::builtin_sources();
    if (option == open_sources_option && !std::filesystem::exists(option)) return imagery::open_sources(); // a file named `open` wins
    return imagery::load_sources_file(option);
}

std::vector<BuildSource> load_build_sources(const std::string& option) {
    const auto configs = configured_sources(option);
    const std::string origin = option.empty() ? "the built-in sources" : option == open_sources_option ? "the open presets" : option;
    std::vector<BuildSource> out;
    for (const auto& c : configs) {
        BuildSource s{c, 0};
        imagery::resolve_from_data(s.config); // e.g. a raster's own footprint and GSD where the config gives none
        s.gsd = s.config.gsd;
        if (!c.kind->tells_year() && !c.year)
            throw std::runtime_error(origin + ": source " + c.alias +
                                     " has no `year`: the acquisition year is part of every image's file name (add year = YYYY)");
        if (!(s.gsd > 0)) throw std::runtime_error(origin + ": source " + c.alias + " has no GSD (add gsd = metres per pixel)");
        out.push_back(std::move(s));
    }
    return out;
}

double coarsest_source_gsd(const std::string& option) {
    double coarsest = 0;
    for (const auto& s : load_build_sources(option)) coarsest = std::max(coarsest, s.gsd);
    return coarsest;
}

} // namespace skyscript::pipeline
