#include "pipeline/common/build_sources.hpp"

#include "imagery/local_resource_error.hpp"
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

std::vector<BuildSource> load_build_sources(const std::string& option, std::map<std::string, std::string>* unreadable) {
    const auto configs = configured_sources(option);
    const std::string origin = option.empty() ? "the built-in sources" : option == open_sources_option ? "the open presets" : option;
    std::vector<BuildSource> out;
    for (const auto& c : configs) {
        BuildSource s{c, 0};
        try {
            imagery::resolve_from_data(s.config); // e.g. a raster's own footprint and GSD where the config gives none
        } catch (const imagery::LocalResourceError&) { // the machine's: no source's fault
            throw;
        } catch (const std::exception& e) {
            if (!unreadable) throw;
            (*unreadable)[c.alias] = e.what();
            out.push_back(std::move(s)); // as configured: not asked this run
            continue;
        }
        s.gsd = s.config.gsd;
        if (!c.kind->tells_year() && !c.year)
            throw std::runtime_error(origin + ": source " + c.alias +
                                     " has no `year`: the acquisition year is part of every image's file name (add year = YYYY)");
        if (!(s.gsd > 0)) throw std::runtime_error(origin + ": source " + c.alias + " has no GSD (add gsd = metres per pixel)");
        out.push_back(std::move(s));
    }
    return out;
}

const BuildSource* find_build_source(const std::vector<BuildSource>& sources, const std::string& alias) {
    const auto it = std::find_if(sources.begin(), sources.end(), [&](const BuildSource& s) { return s.config.alias == alias; });
    return it == sources.end() ? nullptr : &*it;
}

double coarsest_source_gsd(const std::vector<BuildSource>& sources) {
    double coarsest = 0;
    for (const auto& s : sources) coarsest = std::max(coarsest, s.gsd);
    return coarsest;
}

double coarsest_source_gsd(const std::string& option) { return coarsest_source_gsd(load_build_sources(option)); }

} // namespace skyscript::pipeline
