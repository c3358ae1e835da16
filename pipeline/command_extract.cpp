// skyscript-build extract INPUT.osm.pbf -o OUT: PBF → OUT/catalog.gpkg.

#include "catalog_gpkg.hpp"
#include "cli_args.hpp"
#include "commands.hpp"
#include "extract_command.hpp"
#include "extractor.hpp"
#include "progress.hpp"
#include "region.hpp"
#include "system_info.hpp"
#include "tag_list.hpp"
#include "tag_matcher.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>

namespace skyscript::pipeline {

namespace {

constexpr const char* extract_help = R"(Usage: skyscript-build extract INPUT.osm.pbf [-o OUT] [options]

Reads an OSM PBF file and writes OUT/catalog.gpkg: every node, way and area
(closed way or multipolygon relation) with at least one visually groundable
feature tag, with its groundable tags, geometry, representative point, area or
length, and the coarsest GSD at which its focus tag stays visible.

Options:
  -o, --output DIR        output folder (default: out)
      --tags FILE         tag list replacing the default vocabulary
      --tags +FILE        tag list added to (and overriding) the default
      --bbox W,S,E,N      keep only objects intersecting this lon/lat box
      --polygon FILE      keep only objects intersecting the (multi)polygons of a GeoJSON file
      --node-index NAME   auto | flex_mem | sparse_file_array | dense_file_array
                          (auto: in memory for extracts, file-backed for planet-sized input)
  -q, --quiet             no progress and no summary
  -h, --help              this text

The input must have its nodes before its ways (osmium sort does that).
)";

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
    const auto tag_list = tags::load_tag_option(req.tags);
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

ExtractRequest parse_extract_args(const CliArgs& cli) {
    ExtractRequest req;
    if (cli.positional().size() != 1)
        throw UsageError(cli.positional().empty() ? "extract needs an INPUT.osm.pbf" : "extract takes one INPUT file");
    req.input = cli.positional()[0];
    req.out_dir = cli.value("output").value_or("out");
    req.tags = cli.value("tags").value_or("");
    if (auto b = cli.value("bbox")) req.bbox = parse_bbox(*b);
    req.polygon = cli.value("polygon").value_or("");
    if (req.bbox && !req.polygon.empty()) throw UsageError("--bbox and --polygon exclude each other");
    req.node_index = cli.value("node-index").value_or("auto");
    if (!osm::is_known_node_index(req.node_index))
        throw UsageError("--node-index: unknown index `" + req.node_index + "` (auto, flex_mem, sparse_file_array, dense_file_array)");
    req.quiet = cli.flag("quiet");
    return req;
}

const std::vector<OptionSpec>& extract_option_specs() {
    static const std::vector<OptionSpec> specs{{"output", true, 'o'}, {"tags", true, 0},       {"bbox", true, 0},
                                               {"polygon", true, 0},  {"node-index", true, 0}, {"quiet", false, 'q'},
                                               {"help", false, 'h'}};
    return specs;
}

int command_extract(const std::vector<std::string>& args) {
    const CliArgs cli{args, extract_option_specs()};
    if (cli.flag("help")) {
        std::fputs(extract_help, stdout);
        return 0;
    }
    const auto req = parse_extract_args(cli);
    const auto result = run_extract(req);
    if (!req.quiet) print_extract_summary(result);
    return 0;
}

} // namespace skyscript::pipeline
