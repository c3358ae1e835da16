#include "build_sources.hpp"

#include "gdal_source.hpp"

#include <stdexcept>

namespace skyscript::pipeline {

std::vector<BuildSource> load_build_sources(const std::string& option) {
    const auto configs = option.empty() ? imagery::builtin_sources() : imagery::load_sources_file(option);
    const std::string origin = option.empty() ? "the built-in sources" : option;
    std::vector<BuildSource> out;
    for (const auto& c : configs) {
        BuildSource s{c, c.gsd};
        if (c.kind == imagery::SourceKind::gdal) {
            const auto info = imagery::describe_raster(c.path);
            if (s.gsd <= 0) s.gsd = info.gsd_m;
            const auto& w = s.config.coverage;
            if (w.west == -180 && w.south == -90 && w.east == 180 && w.north == 90) s.config.coverage = info.coverage;
        }
        if (c.kind != imagery::SourceKind::earthengine && !c.year)
            throw std::runtime_error(origin + ": source " + c.alias +
                                     " has no `year`: the acquisition year is part of every image's file name (add year = YYYY)");
        if (!(s.gsd > 0)) throw std::runtime_error(origin + ": source " + c.alias + " has no GSD (add gsd = metres per pixel)");
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace skyscript::pipeline
