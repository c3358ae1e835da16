#include "meta_record.hpp"

#include "dataset_layout.hpp"
#include "pickle_writer.hpp"

#include <ctime>

namespace skyscript::pipeline {

nlohmann::ordered_json meta_record(const Job& job) {
    using json = nlohmann::ordered_json;
    const auto& g = job.grid;
    json time;
    if (job.time_ms > 0) {
        const std::time_t t = static_cast<std::time_t>(job.time_ms / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        time = json::array({tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min});
    } else {
        time = json::array({job.year, 1, 1, 0, 0});
    }
    json m;
    m["box"] = json::array({g.box.west, g.box.south, g.box.east, g.box.north});
    m["time"] = time;
    m["center_tags"] = json::parse(job.center_tags);
    m["surrounding_tags"] = json::parse(job.surrounding_tags);
    m["osm_type"] = std::string(1, job.osm_type);
    m["osm_id"] = job.osm_id;
    m["source"] = job.source;
    m["gsd_m"] = g.gsd;
    m["size_px"] = g.width;
    m["focus_tag"] = job.focus_tag;
    m["crs"] = g.crs();
    m["transform"] = json::array({g.geotransform[0], g.geotransform[1], g.geotransform[2], g.geotransform[3], g.geotransform[4],
                                  g.geotransform[5]});
    m["time_known"] = job.time_ms > 0 ? "minute" : "year";
    m["valid_fraction"] = job.valid_fraction;
    return m;
}

std::string meta_pickle(const Job& job) { return to_pickle(meta_record(job), {"box", "time", "transform"}); }

std::string meta_json_line(const Job& job) {
    auto m = meta_record(job);
    nlohmann::ordered_json line;
    line["filepath"] = image_relative_path(job.part, job.stem);
    line["title"] = job.title;
    line["title_multi_objects"] = job.title_multi_objects;
    if (!job.title_natural.empty()) {
        line["title_natural"] = job.title_natural;
        line["title_multi_objects_natural"] = job.title_multi_objects_natural;
    }
    for (auto& [k, v] : m.items()) line[k] = v;
    return line.dump() + "\n";
}

} // namespace skyscript::pipeline
