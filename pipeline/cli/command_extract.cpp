// skyscript-build extract INPUT.osm.pbf -o OUT: PBF → OUT/catalog.gpkg.

#include "osm/extractor.hpp"
#include "pipeline/catalog/extract_stage.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_options.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/region.hpp"
#include "pipeline/plan/plan_stage.hpp"
#include "pipeline/state/build_lock.hpp"

#include <cstdio>
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
      --hidden FILE       rules of objects not visible from above replacing the default
                          (tunnels, underground, indoor, covered lines: tag_filters/hidden.tsv);
                          an empty FILE hides nothing; +FILE adds rules to the default
      --bbox W,S,E,N      keep only objects intersecting this lon/lat box (longitude first)
      --polygon FILE      keep only objects intersecting the union of the (multi)polygons
                          of a GeoJSON (or any OGR-readable) file
      --node-index NAME   where node locations are kept while ways are built:
                          auto               flex_mem below 8 GB of input; from 8 GB a file in --tmp-dir:
                                             dense_file_array when it is smaller than a sparse
                                             index (as on the planet), else sparse_file_array
                          flex_mem           in memory, about 16 bytes a node (sparse) or 8 bytes
                                             per id up to the largest (dense), whichever is smaller
                          sparse_file_array  a file in --tmp-dir, about 16 bytes a node
                          dense_file_array   a file in --tmp-dir of 8 bytes x the largest node id, whatever
                                             the input's size: ~100 GB for the planet, and nearly as
                                             much for a small extract of today's data (its ids are as
                                             large). Filled before pass 2; choose it for the planet or
                                             a continent, where it is the fastest
                          auto also goes to a file when flex_mem would not fit in memory
      --tmp-dir DIR       scratch: a file-backed node index, the rows of sampling in the read (default: OUT)
      --threads N         threads building ways and areas in the second read (default 0: one
                          per core this process may use; 1: all on the reading thread); the
                          catalog holds the same rows whatever N
      --force             go on when the pre-flight check says the run will not fit
      --read-sample MODE  auto (default: inputs of 1 GiB or more), on or off: draw the plan's
                          sample as the input is read and keep only the objects it needs (the
                          drawn cells' and rare tags' objects and whatever their tiles can
                          show) -- the catalog's size then follows the sample, not the input.
                          It takes a first, writing-free read of the input. The draw uses
                          --seed, --all-below, --cells, --rare-min and the tile sizes
                          --point-tile-px, --max-px, --margin, --offset (see skyscript-build
                          --help; same defaults); `plan` must be given the same values.
      --sources FILE      with --read-sample: the sources the plan will use (default: the
                          built-in list); tiles of the largest objects reach their coarsest GSD
  -q, --quiet             no progress and no summary
  -h, --help              this text

Before reading, a pre-flight check estimates the run's memory (the node index when in memory)
and disk (the catalog in OUT, a file-backed index in --tmp-dir) and stops in seconds, saying what
to change, when they do not fit. The memory is MemAvailable, lowered by an address-space limit
(ulimit -v); the environment variable SKYSCRIPT_MEMORY (e.g. 2G) replaces it.

The input must have its nodes before its ways (osmium sort does that). A run that keeps no
object fails (exit 1) and says why, e.g. a --bbox given as lat,lon.
)";

} // namespace

ExtractRequest parse_extract_args(const CliArgs& cli) {
    ExtractRequest req;
    if (cli.positional().size() != 1)
        throw UsageError(cli.positional().empty() ? "extract needs an INPUT.osm.pbf" : "extract takes one INPUT file");
    req.input = cli.positional()[0];
    req.out_dir = cli.value("output").value_or("out");
    // Recorded in the catalog as the build records them (absolute: build_options.hpp).
    const auto path_option = [&](const char* name) { return absolute_option_value(*find_option_row(name), cli.value(name).value_or("")); };
    req.tags = path_option("tags");
    req.hidden = path_option("hidden");
    if (auto b = cli.value("bbox")) req.bbox = parse_bbox(*b);
    req.polygon = path_option("polygon");
    if (req.bbox && !req.polygon.empty()) throw UsageError("--bbox and --polygon exclude each other");
    req.node_index = cli.value("node-index").value_or("auto");
    check_node_index(req.node_index);
    req.tmp_dir = cli.value("tmp-dir").value_or("");
    if (auto v = cli.value("threads")) { // checked as the bare command checks it (option table: 0 .. 1024)
        BuildOptions threads;
        threads.set("threads", *v, "cli");
        req.threads = static_cast<int>(threads.integer("threads"));
    }
    req.force = cli.flag("force");
    req.quiet = cli.flag("quiet");
    if (wants_read_sample(cli.value("read-sample").value_or("auto"), req.input)) {
        BuildOptions sampling; // the build's descriptors: same defaults and checks as `plan`
        for (const OptionName name : read_sample_option_names)
            if (auto v = cli.value(name.str())) sampling.set(name.str(), *v, "cli");
        req.read_sample = ExtractRequest::ReadSampling{sampling_options(sampling), placement_options(sampling),
                                                       coarsest_source_gsd(cli.value("sources").value_or(""))};
    }
    return req;
}

const std::vector<OptionSpec>& extract_option_specs() {
    static const std::vector<OptionSpec> specs{{"output", true, 'o'},    {"tags", true, 0},  {"hidden", true, 0},
                                               {"bbox", true, 0},        {"polygon", true, 0}, {"node-index", true, 0},
                                               {"tmp-dir", true, 0},     {"force", false, 0}, {"threads", true, 0},
                                               {"quiet", false, 'q'},    {"help", false, 'h'},
                                               {"read-sample", true, 0}, {"seed", true, 0}, {"all-below", true, 0},
                                               {"cells", true, 0},       {"rare-min", true, 0}, {"point-tile-px", true, 0},
                                               {"max-px", true, 0},      {"margin", true, 0}, {"offset", true, 0},
                                               {"sources", true, 0}};
    return specs;
}

int command_extract(const std::vector<std::string>& args) {
    const CliArgs cli{args, extract_option_specs()};
    if (cli.flag("help")) {
        std::fputs(extract_help, stdout);
        return 0;
    }
    const auto req = parse_extract_args(cli);
    const BuildLock lock(req.out_dir, command_line()); // one writer per OUT
    // A build's folder: its state DB names the catalog's objects by row and records the options
    // they were chosen by, so a catalog extracted over it (another input, region or tag list)
    // would be finished by the build's later stages as if it were its own.
    if (const auto state = BuildDir(req.out_dir).state_db(); std::filesystem::exists(state))
        throw std::runtime_error(req.out_dir + " is a build's folder (" + state + "): extracting again there would replace the catalog the build was "
                                 "made from; rerun the build (it extracts again only a missing catalog), extract into another -o, or remove " +
                                 state + " to start over");
    const auto result = run_extract(req);
    if (!req.quiet) print_extract_summary(result);
    return 0;
}

} // namespace skyscript::pipeline
