// The extract stage: PBF → OUT/catalog.gpkg (osm/ reads, catalog_gpkg writes).

#include "extract_stage.hpp"

#include "catalog_gpkg.hpp"
#include "extractor.hpp"
#include "progress.hpp"
#include "region.hpp"
#include "system_info.hpp"
#include "tag_list_file.hpp"
#include "tag_matcher.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>

namespace skyscript::pipeline {

namespace {

// Fails fast, before hours of work, when the node index cannot fit.
void preflight(const std::string& input, const std::string& index, const std::string& out_dir) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(input, ec);
    if (ec) return; // extract_catalog reports the input problem itself
    const std::uint64_t index_estimate = 2 * size; // about 16 bytes per node, ~9 PBF bytes per node
    if (index.ends_with("_file_array")) {
        const auto free = free_disk_bytes(out_dir);
        if (free && free < index_estimate)
            throw std::runtime_error(out_dir + ": not enough free disk for the file-backed node index (about " +
                                     human_bytes(index_estimate) + " needed, " + human_bytes(free) + " free)");
        return;
    }
    const auto avail = available_memory_bytes();
    if (avail && index_estimate > avail)
        throw std::runtime_error(input + ": the in-memory node index would need about " + human_bytes(index_estimate) +
                                 " but only " + human_bytes(avail) + " is available; use --node-index dense_file_array");
}

std::string iso_now() {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

} // namespace

ExtractResult run_extract(const ExtractRequest& req) {
    const auto tag_list = load_tag_option(req.tags);
    const tags::TagMatcher matcher{tag_list};

    std::optional<osm::SpatialFilter> region;
    if (req.bbox) region = osm::SpatialFilter::rectangle(*req.bbox);
    else if (!req.polygon.empty()) region = load_polygon_region(req.polygon);

    std::error_code ec;
    std::filesystem::create_directories(req.out_dir, ec);
    if (ec || !std::filesystem::is_directory(req.out_dir))
        throw std::runtime_error(req.out_dir + ": cannot create output folder (" + (ec ? ec.message() : "not a folder") + ")");

    osm::ExtractOptions options;
    options.input = req.input;
    options.node_index = req.node_index;
    if (req.node_index == "auto" && std::filesystem::exists(req.input, ec) && !std::filesystem::is_directory(req.input, ec))
        options.node_index = osm::choose_node_index(std::filesystem::file_size(req.input, ec));
    options.scratch_dir = req.out_dir;
    options.region = region ? &*region : nullptr;
    preflight(req.input, options.node_index, req.out_dir);

    const auto start = std::chrono::steady_clock::now();
    CatalogGpkgWriter writer{(std::filesystem::path(req.out_dir) / "catalog.gpkg").string()};
    Progress progress{"extract", req.quiet};
    options.on_progress = [&](const osm::ExtractProgress& p) {
        progress.update(p.bytes_done, p.bytes_total, p.objects, "objects");
    };
    ExtractResult result;
    result.stats = osm::extract_catalog(options, matcher, writer);
    progress.finish();

    const auto& s = result.stats;
    std::map<std::string, std::string> meta{
        {"generator", "skyscript-build extract"},
        {"created", iso_now()},
        {"input", std::filesystem::absolute(req.input).string()},
        {"input_bytes", std::to_string(std::filesystem::file_size(req.input, ec))},
        {"tags", req.tags.empty() ? "default" : req.tags},
        {"node_index", options.node_index},
        {"region", req.bbox ? "bbox" : req.polygon.empty() ? "" : req.polygon},
        {"objects", std::to_string(s.kept())},
        {"points", std::to_string(s.points)},
        {"lines", std::to_string(s.lines)},
        {"areas", std::to_string(s.areas)},
        {"invalid_lines", std::to_string(s.invalid_lines)},
        {"invalid_areas", std::to_string(s.invalid_areas)},
        {"missing_locations", std::to_string(s.missing_locations)},
        {"incomplete_relations", std::to_string(s.incomplete_relations)},
    };
    writer.commit(meta);
    result.catalog_path = (std::filesystem::path(req.out_dir) / "catalog.gpkg").string();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

void print_extract_summary(const ExtractResult& r) {
    const auto& s = r.stats;
    std::printf("extract: %llu objects in %s (%llu points, %llu lines, %llu areas)\n",
                static_cast<unsigned long long>(s.kept()), r.catalog_path.c_str(),
                static_cast<unsigned long long>(s.points), static_cast<unsigned long long>(s.lines),
                static_cast<unsigned long long>(s.areas));
    std::printf("  invalid geometries: %llu (%llu areas not assembled, %llu lines with < 2 points, "
                "%llu lines with nodes missing from the input, %llu incomplete multipolygons)\n",
                static_cast<unsigned long long>(s.invalid()), static_cast<unsigned long long>(s.invalid_areas),
                static_cast<unsigned long long>(s.invalid_lines), static_cast<unsigned long long>(s.missing_locations),
                static_cast<unsigned long long>(s.incomplete_relations));
    if (s.outside_region) std::printf("  outside the region: %llu\n", static_cast<unsigned long long>(s.outside_region));
    std::printf("  read %llu nodes, %llu ways, %llu relations in %.2f s, peak RSS %s\n",
                static_cast<unsigned long long>(s.nodes_read), static_cast<unsigned long long>(s.ways_read),
                static_cast<unsigned long long>(s.relations_read), r.seconds, human_bytes(peak_rss_bytes()).c_str());
}

} // namespace skyscript::pipeline
