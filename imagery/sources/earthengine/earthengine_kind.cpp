#include "imagery/sources/earthengine/earthengine_kind.hpp"

#include "imagery/gdal_drivers.hpp"
#include "imagery/one_line_text.hpp"
#include "imagery/source_key_text.hpp"
#include "imagery/source_table.hpp"
#include "imagery/sources/earthengine/earthengine_source.hpp"
#include "imagery/sources/earthengine/service_account.hpp"
#include "imagery/url_parts.hpp"
#include "imagery/url_redaction.hpp"

#include <algorithm>
#include <utility>

namespace skyscript::imagery {

namespace {

// The source's Cloud project, else the key's.
std::string project_of(const SourceConfig& source, const ServiceAccount& account) {
    const auto& own = source.settings_as<EarthEngineSettings>().project;
    return own.empty() ? account.project_id : own;
}

// computePixels (+ acquisition times) through the HTTP engine.
class EarthEngineImageSource : public ImageSource {
    // The engine must allow what the project's quota allows (40 in flight unless the source
    // says less): the source's own cap is what bounds it, not the generic default of 32.
    static HttpEngineOptions engine_options(const SourceConfig& c, HttpEngineOptions http) {
        const int cap = c.max_in_flight > 0 ? std::min(c.max_in_flight, earthengine_max_in_flight) : earthengine_max_in_flight;
        http.max_in_flight = std::max(http.max_in_flight, cap);
        return http;
    }

public:
    EarthEngineImageSource(const SourceConfig& c, const ImageSourceOptions& o, ServiceAccount account)
        : ImageSource(c), engine_(engine_options(c, o.http)), project_(project_of(c, account)),
          tokens_(std::move(account), earthengine_scope, std::chrono::minutes(5), TokenRequestLimits{o.http.timeout_s, o.http.max_attempts}) {
        if (project_.empty())
            throw std::runtime_error("source " + c.alias + ": no Cloud project (set `project` in the source or use a key with project_id)");
        // It goes into the URL and a header: letters, digits and - . : only (Cloud project ids,
        // old domain-scoped ones included), so a key file cannot inject a header or a path.
        const auto allowed = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == ':'; };
        if (!std::all_of(project_.begin(), project_.end(), allowed)) {
            std::string shown = project_.substr(0, 64);
            std::replace_if(shown.begin(), shown.end(), [&](char ch) { return !allowed(ch); }, '?'); // the message stays one line
            throw std::runtime_error("source " + c.alias + ": project `" + shown + "` is not a Cloud project id (letters, digits, -, . and : only)");
        }
    }

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        const auto ahead = std::exchange(ahead_, {});
        fetch_earthengine_images(config_, project_, tile_grids(jobs), engine_, tokens_, [&](EarthEngineImage&& r) {
            FetchedTile t;
            t.id = r.id;
            t.ok = r.ok;
            t.image = std::move(r.image);
            t.error = redact_url(r.error); // every reason a tile is failed with is stored and shown
            t.time_ms = r.time_ms;
            t.no_imagery = r.no_imagery;
            t.job_only = r.job_only;
            on_tile(std::move(t));
        }, &known_times_, ahead);
    }
    // The next batch's times are looked up with this batch's (KnownTimes): its pixels start at once.
    void look_ahead(std::span<const TileJob> next) override { ahead_ = tile_grids(next); }
    std::uint64_t requests() const noexcept override { return engine_.stats().requests; }

private:
    std::vector<std::pair<std::uint64_t, TileGrid>> ahead_;
    KnownTimes known_times_;
    HttpEngine engine_;
    std::string project_;
    TokenCache tokens_;
};

// Where a request with the service account's access token may go: Google's API hosts over
// https, or a loopback server (a test's stand-in, as tests/earthengine_fake_server.py). Any
// other `endpoint` in a sources file (shared, copied, edited by someone else) would hand that
// host a token good for an hour on the user's Earth Engine project, over plain http as well.
bool token_may_go_to(const std::string& endpoint) {
    if (!secure_or_loopback(endpoint)) return false;
    const auto host = url_host(endpoint);
    return !has_url_scheme(endpoint, "https://") || host == "googleapis.com" || host.ends_with(".googleapis.com"); // http: loopback
}

class EarthEngineKind : public SourceKind {
public:
    std::string_view name() const override { return "earthengine"; }
    std::vector<std::string_view> keys() const override {
        return {"collection", "project", "endpoint", "cloud_property", "bands", "stretch", "requests_per_second", "max_in_flight"};
    }
    bool tells_year() const override { return true; }

    std::shared_ptr<const SourceSettings> parse(const SourceTable& table, const SourceConfig& common) const override {
        auto s = std::make_shared<EarthEngineSettings>();
        s->collection = table.string("collection", true);
        s->project = table.string("project", false);
        if (table.get("endpoint")) {
            s->endpoint = table.string("endpoint", true);
            if (!token_may_go_to(s->endpoint))
                table.fail_at(*table.get("endpoint"), "`endpoint` must be an https:// address under googleapis.com (or a loopback address, for a test server): the service "
                           "account's access token is sent there, and `" + one_line_text(redact_url(s->endpoint), 200) + "` is neither");
        }
        s->cloud_property = table.string("cloud_property", false);
        if (common.bands.empty()) table.fail("needs `bands` (the collection's R, G, B band names)");
        return s;
    }

    SourceKeyFields key_fields(const SourceConfig& source) const override {
        const auto& ee = source.settings_as<EarthEngineSettings>();
        SourceKeyFields fields;
        fields.collection = ee.collection;
        fields.cloud_property = ee.cloud_property;
        return fields;
    }

    // The key is read and parsed (missing, a directory, not JSON, no private_key ...);
    // --check asks for a token.
    Usability usability(const SourceConfig& source, bool check) const override {
        try {
            auto account = service_account_from_environment();
            const std::string project = project_of(source, account);
            if (project.empty()) return not_usable("no Cloud project (set `project` or use a key with project_id)");
            const std::string who = account.client_email + ", project " + project;
            if (!check) return usable("usable if the key is accepted (" + who + "; --check asks for a token)");
            TokenCache tokens(std::move(account));
            (void)tokens.token();
            return usable("usable: token granted (" + who + ")");
        } catch (const std::exception& e) {
            return not_usable(e.what());
        }
    }

    std::unique_ptr<ImageSource> open(const SourceConfig& source, const ImageSourceOptions& options) const override {
        return std::make_unique<EarthEngineImageSource>(source, options, service_account_from_environment());
    }

    // Its failures already name the source and say what to do.
    std::string explain_missing_tile(const SourceConfig& source, const FetchedTile& tile) const override {
        return tile.ok ? SourceKind::explain_missing_tile(source, tile) : tile.error;
    }

    std::optional<std::string> ignores(const SourceConfig&, std::string_view setting) const override {
        if (setting == "bands") return "its bands are named in the sources file";
        if (setting == "resampling") return "Earth Engine resamples";
        if (setting == "stretch tile") return "--stretch tile is for gdal rasters";
        return std::nullopt;
    }
};

} // namespace

const SourceKind& earthengine_kind() {
    static const EarthEngineKind kind;
    return kind;
}

} // namespace skyscript::imagery
