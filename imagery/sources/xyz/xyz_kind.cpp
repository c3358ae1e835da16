#include "imagery/sources/xyz/xyz_kind.hpp"

#include "imagery/source_key_text.hpp"
#include "imagery/source_table.hpp"
#include "imagery/sources/xyz/xyz_source.hpp"
#include "imagery/url_parts.hpp"
#include "imagery/url_redaction.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace skyscript::imagery {

namespace {

// Tiles through the HTTP engine, stitched and resampled on workers.
class XyzImageSource : public ImageSource {
public:
    XyzImageSource(const SourceConfig& c, const ImageSourceOptions& o)
        : ImageSource(c), engine_(o.http), workers_(network_image_workers(o.workers, o.cores)), jpeg_quality_(o.jpeg_quality) {}

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        fetch_xyz_images(config_, tile_grids(jobs), engine_, workers_, jpeg_quality_, [&](XyzImage&& r) {
            FetchedTile t;
            t.id = r.id;
            t.ok = r.ok;
            t.no_imagery = r.no_imagery;
            t.job_only = r.job_only;
            t.image = std::move(r.image);
            t.jpeg = std::move(r.jpeg);
            t.jpeg_valid_fraction = r.valid_fraction;
            t.jpeg_flat = r.flat;
            t.error = redact_url(r.error); // every reason a tile is failed with is stored and shown
            t.cpu_seconds = r.cpu_seconds;
            on_tile(std::move(t));
        });
    }
    std::uint64_t requests() const noexcept override { return engine_.stats().requests; }

private:
    HttpEngine engine_;
    int workers_;
    int jpeg_quality_;
};

class XyzKind : public SourceKind {
public:
    std::string_view name() const override { return "xyz"; }
    std::vector<std::string_view> keys() const override {
        return {"url", "tms", "tile_px", "max_zoom", "requests_per_second", "max_in_flight"};
    }

    std::shared_ptr<const SourceSettings> parse(const SourceTable& table, const SourceConfig& common) const override {
        auto s = std::make_shared<XyzSettings>();
        s->url = table.string("url", true);
        // The engine reads http(s) only: a file://, ftp:// or bare path passed here and failed
        // every job ("Unsupported protocol") where only `sources --check` had said so.
        if (!http_address(s->url))
            table.fail_at("url", "url must start with http:// or https:// (tiles are read over HTTP only)");
        if (s->url.find(' ') != std::string::npos) table.fail_at("url", "url has a space: write it as %20");
        if (s->url.find("{q}") == std::string::npos &&
            (s->url.find("{z}") == std::string::npos || s->url.find("{x}") == std::string::npos ||
             (s->url.find("{y}") == std::string::npos && s->url.find("{-y}") == std::string::npos)))
            table.fail_at("url", "url needs {z}, {x} and {y} (or {-y}), or {q}");
        // Both rows: {-y} makes the source TMS, which turns {y} over too; one of them is not what was meant.
        if (s->url.find("{y}") != std::string::npos && s->url.find("{-y}") != std::string::npos)
            table.fail_at("url", "url has both {y} and {-y}: give the one the server numbers its rows by ({-y}: from the south, TMS)");
        // Any other {...} would reach the server as it is (Leaflet's {s} subdomain, {r} for
        // retina, GDAL's ${z}): a URL of no tile, every job failed by a 404 or a bad host.
        for (std::size_t open = s->url.find('{'); open != std::string::npos; open = s->url.find('{', open + 1)) {
            const auto close = s->url.find('}', open);
            const auto token = s->url.substr(open, close == std::string::npos ? std::string::npos : close - open + 1);
            if (token != "{z}" && token != "{x}" && token != "{y}" && token != "{-y}" && token != "{q}")
                table.fail_at("url", "url has `" + token + "`, which is not one of {z}, {x}, {y}, {-y}, {q} (for {s}, give one subdomain)");
            if (open > 0 && s->url[open - 1] == '$') table.fail_at("url", "url has `$" + token + "` (GDAL's form): write " + token);
        }
        s->tms = table.boolean("tms").value_or(false) || s->url.find("{-y}") != std::string::npos;
        s->tile_px = static_cast<int>(table.integer("tile_px").value_or(256));
        if (s->tile_px != 256 && s->tile_px != 512) table.fail_at("tile_px", "tile_px must be 256 or 512");
        s->max_zoom = static_cast<int>(table.integer("max_zoom").value_or(22));
        if (s->max_zoom < 0 || s->max_zoom > 24) table.fail_at("max_zoom", "max_zoom must be 0..24");
        // A zoom cap coarser than the GSD wherever the source covers: every image upsampled from
        // far bigger pixels while its meta says gsd_m = gsd (max_zoom = 0 made each image of
        // the one world tile, 156 km a pixel, and exited 0). Refused when even the finest pixel
        // the cap gives over the coverage (at its latitude farthest from the equator) is over
        // twice the GSD.
        const double lat = std::min(85.0511, std::max(std::abs(common.coverage.south), std::abs(common.coverage.north)));
        const double finest = 40075016.686 * std::cos(lat * 3.14159265358979323846 / 180) / (s->tile_px * std::ldexp(1.0, s->max_zoom));
        if (finest > 2 * common.gsd) {
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "max_zoom %d gives pixels of %.3g m at best over the source's coverage, more than twice its gsd %.3g: its images would be "
                          "upsampled from them; give the zoom of the server's finest tiles, or a gsd of at least %.3g",
                          s->max_zoom, finest, common.gsd, finest / 2);
            table.fail_at("max_zoom", buf);
        }
        return s;
    }

    SourceKeyFields key_fields(const SourceConfig& source) const override {
        const auto& xyz = source.settings_as<XyzSettings>();
        SourceKeyFields fields;
        fields.url = xyz.url;
        fields.tile_px = xyz.tile_px;
        fields.max_zoom = xyz.max_zoom;
        fields.tms = xyz.tms;
        return fields;
    }

    std::optional<std::string> ignores(const SourceConfig&, std::string_view) const override {
        return "its tiles are 8-bit RGB as the server sends them"; // bands, stretch and resampling alike
    }

    // One tile at the centre of the coverage, at the source's finest zoom.
    Usability usability(const SourceConfig& source, bool check) const override {
        if (!check) return usable("usable if reachable (--check fetches one tile)");
        const auto& xyz = source.settings_as<XyzSettings>();
        const auto& c = source.coverage;
        const double lon = c.center_lon(), lat = (c.south + c.north) / 2; // across 180 degrees: there, not at 0 (red-team round 31)
        const auto t = xyz_covering_tiles({lon, lat, lon, lat}, xyz.max_zoom).front();
        HttpEngineOptions o;
        o.max_attempts = 2;
        o.timeout_s = 10;
        o.max_retry_after_s = 10; // a check answers in seconds
        HttpEngine engine(o);
        HttpRequest r;
        r.url = xyz_url(xyz.url, t, xyz.tms);
        r.max_body_bytes = xyz_max_tile_bytes(xyz.tile_px);
        const std::string url = redact_url(r.url);
        r.cacheable = false;
        // The tile as the fetch would take it: a login page or a tile of another size is no tile.
        r.validate = [px = xyz.tile_px](const HttpResponse& resp) {
            RgbImage decoded;
            return xyz_tile_problem(resp, px, decoded);
        };
        engine.submit(std::move(r));
        Usability u;
        engine.run([&](HttpResult&& res) {
            if (res.ok) u = usable("usable: fetched " + url);
            else if (res.response.status == 404) u = usable("usable: the server answers (no tile at the coverage centre: " + res.error + ")");
            else u = not_usable(url + ": " + res.error);
        });
        return u;
    }

    std::unique_ptr<ImageSource> open(const SourceConfig& source, const ImageSourceOptions& options) const override {
        return std::make_unique<XyzImageSource>(source, options);
    }
};

} // namespace

const SourceKind& xyz_kind() {
    static const XyzKind kind;
    return kind;
}

SourceConfig xyz_source(std::string alias, std::string url, double gsd, int max_zoom) {
    SourceConfig source;
    source.alias = std::move(alias);
    source.kind = &xyz_kind();
    auto settings = std::make_shared<XyzSettings>();
    settings->url = std::move(url);
    settings->max_zoom = max_zoom;
    source.settings = std::move(settings);
    source.gsd = gsd;
    return source;
}

} // namespace skyscript::imagery
