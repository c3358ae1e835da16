// skyscript-build sources [--sources FILE] [--check]: the imagery sources and whether
// each can be used now, and if not, why.

#include "imagery/source_config.hpp"
#include "imagery/source_kind.hpp"
#include "imagery/url_redaction.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/cli_args.hpp"

#include <cstdio>

namespace skyscript::pipeline {

namespace {

constexpr const char* sources_help = R"(Usage: skyscript-build sources [--sources FILE] [--check] [-q]

Lists the imagery sources (built-in: SkyScript's ten Earth Engine collections;
--sources FILE replaces them) with kind, GSD, coverage and dates, and says which
are usable now and why not. With --check, a raster's coverage and GSD are its own
(its footprint: every longitude up to a pole inside it, W > E across the
antimeridian). A polygon coverage shows its bounds, then a line
with its vertices and where it comes from (builtin:NAME, a GeoJSON file, inline). Exits 1, with one line on stderr per source that
cannot be used naming it and why, unless every source can be used.

  --sources FILE   sources TOML (see README: [[source]] alias, kind, ...)
  --check          also prove each source works: open each gdal raster (or remote
                   dataset), ask the token endpoint for an Earth Engine token, fetch
                   one tile of each xyz source. Without it only what needs no
                   network is checked (key files, local rasters).
  -q, --quiet      nothing on stderr but errors (the table is the output: it stays)
  -h, --help       this text
)";

} // namespace

int command_sources(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"sources", true, 0}, {"check", false, 0}, {"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::fputs(sources_help, stdout);
        return 0;
    }
    if (!cli.positional().empty()) throw UsageError("sources takes no positional argument");
    const auto file = cli.value("sources");
    const auto sources = configured_sources(file.value_or(""));
    std::printf("%-6s %-12s %7s  %-32s %-23s %s\n", "alias", "kind", "gsd m", "coverage W,S,E,N", "dates", "status");
    std::vector<std::string> unusable;
    for (const auto& configured : sources) {
        auto u = configured.kind->usability(configured, cli.flag("check"));
        u.status = imagery::redact_url(u.status); // a key or signature in a URL or a message is not printed
        // Checked and usable: the coverage and GSD the plan will take, e.g. a raster's own
        // footprint (the table said the world, and the plan skipped every object outside it).
        auto s = configured;
        if (cli.flag("check") && u.usable) try {
                imagery::resolve_from_data(s);
            } catch (const std::exception&) { // said by the check, or by the plan
                s = configured;
            }
        char cov[64], gsd[16];
        std::snprintf(cov, sizeof cov, "%g,%g,%g,%g", s.coverage.west, s.coverage.south, s.coverage.east, s.coverage.north);
        if (s.gsd > 0) std::snprintf(gsd, sizeof gsd, "%g", s.gsd);
        else std::snprintf(gsd, sizeof gsd, "native");
        const std::string dates = (s.date_start.empty() ? "..." : s.date_start) + " " + (s.date_end.empty() ? "..." : s.date_end);
        std::printf("%-6s %-12s %7s  %-32s %-23s %s\n", s.alias.c_str(), std::string(s.kind->name()).c_str(), gsd, cov,
                    dates.c_str(), u.status.c_str());
        // A polygon coverage: the box above is its bounds; say what is inside and where it comes from.
        if (const auto& shape = s.coverage_shape)
            std::printf("%-6s %-12s %7s  polygon, %zu vertices, %zu part%s, %zu hole%s, from %s\n", "", "", "", shape->vertex_count(),
                        shape->part_count(), shape->part_count() == 1 ? "" : "s", shape->hole_count(), shape->hole_count() == 1 ? "" : "s",
                        shape->origin().c_str());
        if (!u.usable) unusable.push_back("source " + s.alias + " (" + std::string(s.kind->name()) + ") is " + u.status);
    }
    std::fflush(stdout);
    // Scripts and schedulers ask before a job of days: any source that cannot be used fails it.
    for (const auto& line : unusable) std::fprintf(stderr, "skyscript-build: %s\n", line.c_str());
    return unusable.empty() ? 0 : 1;
}

} // namespace skyscript::pipeline
