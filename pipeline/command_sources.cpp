// skyscript-build sources [--sources FILE] [--check]: the imagery sources and whether
// each can be used now, and if not, why.

#include "cli_args.hpp"
#include "commands.hpp"
#include "gdal_source.hpp"
#include "service_account.hpp"
#include "source_config.hpp"
#include "xyz_source.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace skyscript::pipeline {

namespace {

constexpr const char* sources_help = R"(Usage: skyscript-build sources [--sources FILE] [--check] [-q]

Lists the imagery sources (built-in: SkyScript's ten Earth Engine collections;
--sources FILE replaces them) with kind, GSD, coverage and dates, and says which
are usable now and why not.

  --sources FILE   sources TOML (see README: [[source]] alias, kind, ...)
  --check          also open each gdal raster (or remote dataset) to prove it reads
  -q, --quiet      nothing on stderr but errors (the table is the output: it stays)
  -h, --help       this text
)";

std::string usability(const imagery::SourceConfig& s, bool check) {
    switch (s.kind) {
        case imagery::SourceKind::earthengine: {
            try {
                auto account = imagery::service_account_from_environment();
                const std::string project = s.project.empty() ? account.project_id : s.project;
                if (project.empty()) return "not usable: no Cloud project (set `project` or use a key with project_id)";
                const std::string who = account.client_email + ", project " + project;
                if (!check) return "usable if the key is accepted (" + who + "; --check asks for a token)";
                imagery::TokenCache tokens(std::move(account));
                (void)tokens.token();
                return "usable: token granted (" + who + ")";
            } catch (const std::exception& e) {
                return std::string("not usable: ") + e.what();
            }
        }
        case imagery::SourceKind::gdal:
            if (!check && s.path.find("/vsi") != 0 && !std::ifstream(s.path)) return "not usable: " + s.path + " is not readable";
            if (!check) return "usable (file readable; --check opens it)";
            try {
                const auto info = imagery::describe_raster(s.path);
                char buf[128];
                std::snprintf(buf, sizeof buf, "usable: %d band(s) %s, native GSD %.2f m", info.bands, info.data_type.c_str(), info.gsd_m);
                return buf;
            } catch (const std::exception& e) {
                return std::string("not usable: ") + e.what();
            }
        case imagery::SourceKind::xyz: {
            if (!check) return "usable if reachable (--check fetches one tile)";
            // One tile at the centre of the coverage, at the source's finest zoom.
            const double lon = (s.coverage.west + s.coverage.east) / 2, lat = (s.coverage.south + s.coverage.north) / 2;
            const auto t = imagery::xyz_covering_tiles({lon, lat, lon, lat}, s.max_zoom).front();
            imagery::HttpEngineOptions o;
            o.max_attempts = 2;
            o.timeout_s = 10;
            imagery::HttpEngine engine(o);
            imagery::HttpRequest r;
            r.url = imagery::xyz_url(s.url, t, s.tms);
            const std::string url = r.url;
            r.cacheable = false;
            engine.submit(std::move(r));
            std::string status;
            engine.run([&](imagery::HttpResult&& res) {
                if (res.ok) status = "usable: fetched " + url;
                else if (res.response.status == 404) status = "usable: the server answers (no tile at the coverage centre: " + res.error + ")";
                else status = "not usable: " + res.error;
            });
            return status;
        }
    }
    return "?";
}

} // namespace

int command_sources(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"sources", true, 0}, {"check", false, 0}, {"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::fputs(sources_help, stdout);
        return 0;
    }
    if (!cli.positional().empty()) throw UsageError("sources takes no positional argument");
    const auto file = cli.value("sources");
    const auto sources = file ? imagery::load_sources_file(*file) : imagery::builtin_sources();
    std::printf("%-6s %-12s %7s  %-32s %-23s %s\n", "alias", "kind", "gsd m", "coverage W,S,E,N", "dates", "status");
    for (const auto& s : sources) {
        char cov[64], gsd[16];
        std::snprintf(cov, sizeof cov, "%g,%g,%g,%g", s.coverage.west, s.coverage.south, s.coverage.east, s.coverage.north);
        if (s.gsd > 0) std::snprintf(gsd, sizeof gsd, "%g", s.gsd);
        else std::snprintf(gsd, sizeof gsd, "native");
        const std::string dates = (s.date_start.empty() ? "..." : s.date_start) + " " + (s.date_end.empty() ? "..." : s.date_end);
        std::printf("%-6s %-12s %7s  %-32s %-23s %s\n", s.alias.c_str(), std::string(imagery::kind_name(s.kind)).c_str(), gsd, cov,
                    dates.c_str(), usability(s, cli.flag("check")).c_str());
    }
    return 0;
}

} // namespace skyscript::pipeline
