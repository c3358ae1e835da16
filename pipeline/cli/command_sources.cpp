// skyscript-build sources [--sources FILE] [--check]: the imagery sources and whether
// each can be used now, and if not, why.

#include "pipeline/common/cli_args.hpp"
#include "pipeline/cli/commands.hpp"
#include "imagery/gdal_source.hpp"
#include "imagery/service_account.hpp"
#include "imagery/source_config.hpp"
#include "imagery/url_redaction.hpp"
#include "imagery/xyz_source.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace skyscript::pipeline {

namespace {

constexpr const char* sources_help = R"(Usage: skyscript-build sources [--sources FILE] [--check] [-q]

Lists the imagery sources (built-in: SkyScript's ten Earth Engine collections;
--sources FILE replaces them) with kind, GSD, coverage and dates, and says which
are usable now and why not. Exits 1, with one line on stderr per source that
cannot be used naming it and why, unless every source can be used.

  --sources FILE   sources TOML (see README: [[source]] alias, kind, ...)
  --check          also prove each source works: open each gdal raster (or remote
                   dataset), ask the token endpoint for an Earth Engine token, fetch
                   one tile of each xyz source. Without it only what needs no
                   network is checked (key files, local rasters).
  -q, --quiet      nothing on stderr but errors (the table is the output: it stays)
  -h, --help       this text
)";

struct Usability {
    bool usable = false;
    std::string status; // shown in the table: "usable ..." or "not usable: why"
};

Usability usable(std::string why) { return {true, std::move(why)}; }
Usability not_usable(const std::string& why) { return {false, "not usable: " + why}; }

Usability usability(const imagery::SourceConfig& s, bool check) {
    switch (s.kind) {
        case imagery::SourceKind::earthengine: {
            try {
                // Reads and parses the key: missing, a directory, not JSON, no private_key ...
                auto account = imagery::service_account_from_environment();
                const std::string project = s.project.empty() ? account.project_id : s.project;
                if (project.empty()) return not_usable("no Cloud project (set `project` or use a key with project_id)");
                const std::string who = account.client_email + ", project " + project;
                if (!check) return usable("usable if the key is accepted (" + who + "; --check asks for a token)");
                imagery::TokenCache tokens(std::move(account));
                (void)tokens.token();
                return usable("usable: token granted (" + who + ")");
            } catch (const std::exception& e) {
                return not_usable(e.what());
            }
        }
        case imagery::SourceKind::gdal: {
            const bool local = s.path.find("/vsi") != 0 && s.path.find("://") == std::string::npos && s.path.find('<') == std::string::npos;
            std::error_code ec;
            if (local && std::filesystem::is_directory(s.path, ec)) return not_usable(s.path + " is a directory, not a raster");
            if (local && !std::ifstream(s.path)) return not_usable(s.path + " is not readable");
            if (!check) return usable(local ? "usable (file readable; --check opens it)" : "usable if it opens (--check opens it)");
            imagery::set_gdal_http_defaults(10, 10, 2); // a check answers in seconds
            try {
                const auto info = imagery::describe_raster(s.path);
                char buf[128];
                std::snprintf(buf, sizeof buf, "usable: %d band(s) %s, native GSD %.2f m", info.bands, info.data_type.c_str(), info.gsd_m);
                return usable(buf);
            } catch (const std::exception& e) {
                return not_usable(e.what());
            }
        }
        case imagery::SourceKind::xyz: {
            if (!check) return usable("usable if reachable (--check fetches one tile)");
            // One tile at the centre of the coverage, at the source's finest zoom.
            const double lon = (s.coverage.west + s.coverage.east) / 2, lat = (s.coverage.south + s.coverage.north) / 2;
            const auto t = imagery::xyz_covering_tiles({lon, lat, lon, lat}, s.max_zoom).front();
            imagery::HttpEngineOptions o;
            o.max_attempts = 2;
            o.timeout_s = 10;
            o.max_retry_after_s = 10; // a check answers in seconds
            imagery::HttpEngine engine(o);
            imagery::HttpRequest r;
            r.url = imagery::xyz_url(s.url, t, s.tms);
            r.max_body_bytes = imagery::xyz_max_tile_bytes(s.tile_px);
            const std::string url = imagery::redact_url(r.url);
            r.cacheable = false;
            engine.submit(std::move(r));
            Usability u;
            engine.run([&](imagery::HttpResult&& res) {
                if (res.ok) u = usable("usable: fetched " + url);
                else if (res.response.status == 404) u = usable("usable: the server answers (no tile at the coverage centre: " + res.error + ")");
                else u = not_usable(url + ": " + res.error);
            });
            return u;
        }
    }
    return not_usable("unknown kind");
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
    std::vector<std::string> unusable;
    for (const auto& s : sources) {
        char cov[64], gsd[16];
        std::snprintf(cov, sizeof cov, "%g,%g,%g,%g", s.coverage.west, s.coverage.south, s.coverage.east, s.coverage.north);
        if (s.gsd > 0) std::snprintf(gsd, sizeof gsd, "%g", s.gsd);
        else std::snprintf(gsd, sizeof gsd, "native");
        const std::string dates = (s.date_start.empty() ? "..." : s.date_start) + " " + (s.date_end.empty() ? "..." : s.date_end);
        auto u = usability(s, cli.flag("check"));
        u.status = imagery::redact_url(u.status); // a key or signature in a URL or a message is not printed
        std::printf("%-6s %-12s %7s  %-32s %-23s %s\n", s.alias.c_str(), std::string(imagery::kind_name(s.kind)).c_str(), gsd, cov,
                    dates.c_str(), u.status.c_str());
        if (!u.usable) unusable.push_back("source " + s.alias + " (" + std::string(imagery::kind_name(s.kind)) + ") is " + u.status);
    }
    std::fflush(stdout);
    // Scripts and schedulers ask before a job of days: any source that cannot be used fails it.
    for (const auto& line : unusable) std::fprintf(stderr, "skyscript-build: %s\n", line.c_str());
    return unusable.empty() ? 0 : 1;
}

} // namespace skyscript::pipeline
