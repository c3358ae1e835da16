#include "imagery/sources/stac/stac_kind.hpp"

#include "imagery/gdal_drivers.hpp"
#include "imagery/http_engine.hpp"
#include "imagery/json_depth.hpp"
#include "imagery/reading_threads.hpp"
#include "imagery/source_key_text.hpp"
#include "imagery/source_table.hpp"
#include "imagery/sources/gdal/gdal_source.hpp"
#include "imagery/sources/stac/stac_search.hpp"
#include "imagery/url_parts.hpp"
#include "imagery/url_redaction.hpp"

#include "imagery/token_bucket.hpp"

#include <cpl_conv.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <tuple>

namespace skyscript::imagery {

namespace {

using json = nlohmann::json;

const StacSettings& stac_of(const SourceConfig& s) { return s.settings_as<StacSettings>(); }

// A tile's place on a Z-order curve of ~10 m cells (its centre): tiles near in it are near on the ground.
std::uint64_t z_order(const LonLatBox& b) {
    const double lon = b.crosses_antimeridian() ? b.west : (b.west + b.east) / 2, lat = (b.south + b.north) / 2;
    const auto x = static_cast<std::uint32_t>((lon + 180) / 360 * 4194304), y = static_cast<std::uint32_t>((lat + 90) / 180 * 2097152);
    std::uint64_t z = 0;
    for (int i = 0; i < 22; ++i) z |= (std::uint64_t((x >> i) & 1) << (2 * i)) | (std::uint64_t((y >> i) & 1) << (2 * i + 1));
    return z;
}

// Tiles searched together: those whose centres share a cell of this many degrees.
constexpr double search_cell_deg = 0.05;
constexpr int search_limit = 100;                          // items a page
constexpr int max_pages = 50;                              // a server that pages for ever stops here
constexpr std::uint64_t max_page_bytes = 16ull << 20;      // one page of items
// COG reads at once when the source sets no max_in_flight: a read mostly waits for the
// network, so there are this many reading threads whatever the cores.
constexpr int default_reads_in_flight = 16;

// Planetary Computer's SAS tokens (docs/stac-research.md, section 2): one per collection,
// from {token_url}/{collection}, appended to an asset's href as its query string. Kept
// until shortly before its msft:expiry (a minute, or a fifth of its life when shorter),
// renewed when a read fails (a 403: a token revoked or dying early). Shared by
// the worker threads; the token itself never reaches a message (redact_url drops `sig`).
class SasTokens {
public:
    SasTokens(std::string url, const HttpEngineOptions& http) : url_(std::move(url)), engine_(http) {}

    // The token to sign with.
    std::string token() {
        std::lock_guard lock(mutex_);
        if (!token_.empty() && std::chrono::system_clock::now() < renew_at_) return token_;
        return fetch();
    }
    // After a read with `failed` failed: a new token (or the one another thread already got
    // since), or nullopt when `failed` is under a second old and so not why the read failed.
    std::optional<std::string> renewed(const std::string& failed) {
        std::lock_guard lock(mutex_);
        if (failed != token_) return token_;
        if (std::chrono::system_clock::now() - fetched_at_ < std::chrono::seconds(1)) return std::nullopt;
        return fetch();
    }
    int fetched() const { return fetched_; }

private:
    std::string fetch() {
        const auto now = std::chrono::system_clock::now();
        HttpRequest r;
        r.url = url_;
        r.max_body_bytes = 1 << 16;
        r.validate = [](const HttpResponse& resp) -> std::optional<std::string> {
            const auto j = json::parse(resp.body, nullptr, false);
            if (!j.is_object() || !j.contains("token") || !j["token"].is_string() || !j.contains("msft:expiry") || !j["msft:expiry"].is_string())
                return "the token endpoint's answer has no token and msft:expiry";
            return std::nullopt;
        };
        engine_.submit(std::move(r));
        std::optional<HttpResult> result;
        engine_.run([&](HttpResult&& res) { result = std::move(res); });
        if (!result || !result->ok) throw std::runtime_error("SAS token from " + redact_url(url_) + ": " + (result ? result->error : "no answer"));
        const auto j = json::parse(result->response.body);
        token_ = j["token"].get<std::string>();
        while (!token_.empty() && token_.front() == '?') token_.erase(0, 1);
        const auto expiry_ms = parse_iso_time_ms(j["msft:expiry"].get<std::string>());
        const auto issued = now;
        const auto expiry = expiry_ms ? std::chrono::system_clock::time_point(std::chrono::milliseconds(*expiry_ms)) : issued;
        const auto margin = std::min<std::chrono::system_clock::duration>(std::chrono::seconds(60), (expiry - issued) / 5);
        // An expiry that does not parse, or is past by this machine's clock (a skewed clock:
        // the server gave it as good), is kept a minute, and one a few seconds ahead ten
        // seconds: renewed at once, every signed read would fetch a token, one at a time under
        // the lock. A read it fails renews it anyway.
        renew_at_ = expiry > issued ? std::max(expiry - margin, issued + std::chrono::seconds(10)) : issued + std::chrono::seconds(60);
        fetched_at_ = issued;
        ++fetched_;
        return token_;
    }

    std::string url_;
    HttpEngine engine_;
    std::mutex mutex_;
    std::string token_;
    std::chrono::system_clock::time_point renew_at_, fetched_at_;
    int fetched_ = 0;
};

// A href with the token as its query string (an href with a query already gets it after `&`).
std::string signed_href(const std::string& href, const std::string& token) {
    return token.empty() ? href : href + (href.find('?') == std::string::npos ? "?" : "&") + token;
}

class StacImageSource : public ImageSource {
public:
    StacImageSource(const SourceConfig& c, const ImageSourceOptions& o)
        : ImageSource(c), engine_(o.http), reads_in_flight_(c.max_in_flight > 0 ? c.max_in_flight : std::max(default_reads_in_flight, image_workers(o.workers, o.cores))),
          read_rate_(c.requests_per_second, std::max(1.0, c.requests_per_second / 2)) {
        set_gdal_http_defaults(o.http.timeout_s, o.http.connect_timeout_s, o.http.max_attempts);
        if (c.requests_per_second > 0) engine_.set_rate(c.alias, c.requests_per_second, std::max(1.0, c.requests_per_second / 2));
        if (c.max_in_flight > 0) engine_.set_max_in_flight(c.alias, c.max_in_flight);
        read_.resampling = o.resampling;
        read_.bands = c.band_numbers();
        if (stac_of(c).assets.size() == 3) read_.bands = {1}; // each asset is one band
        if (c.stretch) {
            read_.stretch.mode = Stretch::Mode::fixed;
            read_.stretch.min = c.stretch->first;
            read_.stretch.max = c.stretch->second;
        }
        if (stac_of(c).sign == "planetary-computer") tokens_ = std::make_unique<SasTokens>(stac_of(c).token_url + "/" + stac_of(c).collection, o.http);
    }

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        // Groups of nearby tiles, one search each. Tiles across the antimeridian are grouped
        // apart (their box's west is over its east): one box cannot hold them and a tile
        // west of 180° together, which left the crossing tile out of the search.
        std::map<std::tuple<bool, long, long>, std::vector<std::size_t>> groups;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            const auto& b = jobs[i].grid.box;
            const bool crosses = b.crosses_antimeridian();
            const double lon = crosses ? b.west : (b.west + b.east) / 2;
            groups[{crosses, std::lround(std::floor(lon / search_cell_deg)), std::lround(std::floor((b.south + b.north) / 2 / search_cell_deg))}].push_back(i);
        }
        struct Group {
            std::vector<std::size_t> tiles;
            json sent;
            std::vector<StacItem> items;
            std::string error;
            int pages = 0;
            std::size_t bytes = 0;              // its items', estimated (stac_item_bytes)
            std::string url;                    // of the page asked for last
            std::set<std::string> asked;        // every page asked for: method, URL and body
            std::uint64_t features = 0;         // over its pages, complete or not
            std::optional<std::uint64_t> matched; // as its first page says
        };
        std::vector<Group> searches;
        for (auto& [cell, tiles] : groups) {
            LonLatBox box = jobs[tiles[0]].grid.box;
            for (const auto i : tiles) {
                const auto& b = jobs[i].grid.box; // all across 180° or none: min and max hold either way
                box = {std::min(box.west, b.west), std::min(box.south, b.south), std::max(box.east, b.east), std::max(box.north, b.north)};
            }
            Group g;
            g.tiles = tiles;
            g.sent = stac_search_body(config_, box, search_limit, abilities());
            searches.push_back(std::move(g));
        }
        const auto& stac = stac_of(config_);
        // Sends a page's request; false when the search asked for this very page before (a
        // server whose `next` loops would be asked the same until the page cap).
        auto post = [&](std::size_t g, const std::string& url, const std::string& method, const json& body) {
            if (!searches[g].asked.insert(method + " " + url + "\n" + (method == "POST" ? body.dump() : "")).second) return false;
            searches[g].url = url;
            HttpRequest r;
            r.id = g;
            r.url = url;
            r.method = method;
            if (method == "POST") {
                r.body = body.dump();
                r.headers = {"Content-Type: application/json", "Accept: application/geo+json"};
            }
            r.source = config_.alias;
            r.max_body_bytes = max_page_bytes;
            r.validate = [](const HttpResponse& resp) -> std::optional<std::string> {
                // Nested past any STAC page: its items are copied and walked (a hostile server's 100,000 brackets).
                if (!json_depth_within(resp.body)) return "the search answer nests more than " + std::to_string(max_json_depth) + " levels deep";
                const auto page = json::parse(resp.body, nullptr, false);
                if (page.is_discarded() || !page.is_object() || !page.contains("features") || !page["features"].is_array())
                    return "the search answer is not a FeatureCollection";
                return std::nullopt;
            };
            engine_.submit(std::move(r));
            return true;
        };
        for (std::size_t g = 0; g < searches.size(); ++g) {
            if (abilities().post) post(g, stac.api + "/search", "POST", searches[g].sent);
            else post(g, stac.api + "/search?" + stac_search_query(searches[g].sent), "GET", {});
        }
        // A search that fails fails its tiles: its items are not held while the others go on.
        std::size_t held = 0; // every search's items, estimated
        const auto budget = static_cast<std::size_t>(stac.max_items_mb * 1048576.0);
        const auto fail = [&held](auto& s, std::string why) {
            s.error = redact_url(why);
            s.items = {};
            held -= s.bytes;
            s.bytes = 0;
        };
        engine_.run([&](HttpResult&& r) {
            auto& s = searches.at(r.id);
            if (!r.ok) {
                fail(s, "STAC search at " + stac.api + ": " + r.error + (r.error_detail.empty() ? "" : ": " + r.error_detail.substr(0, 200)));
                return;
            }
            // Whatever a page holds fails its own group's tiles with a reason, never the build.
            try {
                const auto page = json::parse(r.response.body);
                // Relative links and hrefs are read against where the page came from (a moved API's new path).
                const std::string page_url = r.response.url.empty() ? s.url : r.response.url;
                auto items = stac_items(page, stac.assets, stac.sortby, page_url);
                if (s.pages == 0) s.matched = stac_matched(page);
                s.features += page["features"].size();
                std::size_t bytes = 0;
                for (const auto& item : items) bytes += stac_item_bytes(item);
                if (held + bytes > budget) {
                    fail(s, "STAC search at " + stac.api + ": the items found for this batch's tiles would hold more than " +
                                std::to_string(std::lround(stac.max_items_mb)) + " MB (max_items_mb; this search " + std::to_string(s.items.size() + items.size()) +
                                " items in " + std::to_string(s.pages + 1) + " pages); narrow the source's `dates`, set `max_cloud`, or fetch with a smaller --batch");
                    return;
                }
                held += bytes;
                s.bytes += bytes;
                s.items.insert(s.items.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
                if (++s.pages >= max_pages) {
                    // Its best item cannot be told from part of them (nor the same whatever tiles
                    // share the search): the group's tiles fail, saying what to change.
                    if (stac_next_page(page, s.sent, page_url))
                        fail(s, "STAC search at " + stac.api + ": more than " + std::to_string(max_pages) +
                                    " pages of items for one search; narrow the source's `dates`, or set `max_cloud`");
                    return;
                }
                if (auto next = stac_next_page(page, s.sent, page_url)) {
                    if (!post(r.id, next->url, next->method, next->body))
                        return fail(s, "STAC search at " + stac.api + ": the server's `next` link asks again for a page it already sent (" +
                                           next->method + " " + one_line_text(next->url, 200) + "): it pages in a loop");
                    if (next->method == "POST") s.sent = next->body;
                } else if (s.matched && *s.matched <= static_cast<std::uint64_t>(max_pages) * search_limit && s.features < *s.matched) {
                    // The last page, by its links, of a search the server says matched more
                    // (Planetary Computer's `next` links went missing in 2026-01,
                    // docs/stac-research.md): the best item may be among those not sent.
                    fail(s, "STAC search at " + stac.api + ": the server says " + std::to_string(*s.matched) + " items match but sent " +
                                std::to_string(s.features) + " and no `next` link to the rest: an answer cut short (a server fault, or a server that does not page), whose best item may be among "
                                "those not sent");
                }
            } catch (const std::bad_alloc&) { // the machine's, not the answer's
                throw;
            } catch (const std::exception& e) {
                fail(s, "STAC search at " + stac.api + ": an answer it cannot read (" + e.what() + ")");
            }
        });

        for (auto& s : searches) stac_filter_and_sort(s.items, config_); // the order every page of every API ends in

        // Each tile from its items' COGs, best first, by max_in_flight reading threads
        // (GDAL's own HTTP; a thread reads one tile at a time). A thread takes a run of
        // neighbouring tiles (in Z order within their group) at a time: its open COGs and
        // their decoded blocks (GDAL caches them per open dataset, so per thread) serve the
        // next tiles, where tiles dealt out one by one would each decode them again.
        std::vector<std::pair<std::size_t, std::size_t>> work; // (group, tile index)
        for (std::size_t g = 0; g < searches.size(); ++g) {
            auto tiles = searches[g].tiles;
            std::ranges::sort(tiles, {}, [&](std::size_t i) { return z_order(jobs[i].grid.box); });
            for (const auto i : tiles) work.emplace_back(g, i);
        }
        const std::size_t run = std::max<std::size_t>(1, work.size() / (static_cast<std::size_t>(reads_in_flight_) * 8));
        std::atomic<std::size_t> next{0};
        auto read_tiles = [&] {
            try {
                for (std::size_t start; (start = next.fetch_add(run)) < work.size();)
                    for (std::size_t w = start; w < std::min(start + run, work.size()); ++w) {
                        const auto& s = searches[work[w].first];
                        const auto& job = jobs[work[w].second];
                        FetchedTile t;
                        t.id = job.id;
                        const double cpu = thread_cpu_seconds();
                        if (!s.error.empty()) {
                            t.error = s.error;
                        } else if (const auto on_tile_items = stac_items_on_tile(s.items, job.grid.box); on_tile_items.empty()) {
                            t.no_imagery = true;
                            t.error = no_item_message();
                        } else {
                            try {
                                const StacItem* shown = nullptr;
                                t.image = mosaic(on_tile_items, job.grid, t.time_ms, shown);
                                t.provenance = provenance(*shown);
                                t.ok = true;
                            } catch (const LocalResourceError&) { // the machine's, not the job's: the fetch stops, the job stays planned
                                throw;
                            } catch (const std::bad_alloc&) { // the machine's too: no job's failure reason
                                throw;
                            } catch (const std::exception& e) {
                                t.error = redact_url(e.what());
                                stop_if_out_of_file_descriptors(t.error);
                            }
                        }
                        t.cpu_seconds = thread_cpu_seconds() - cpu;
                        on_tile(std::move(t));
                    }
            } catch (...) { // from on_tile: the other threads stop at their next run, run() rethrows it
                next = work.size();
                throw;
            }
        };
        if (!readers_) readers_ = std::make_unique<ReadingThreads>(reads_in_flight_, close_rasters_of_this_thread);
        readers_->run(read_tiles);
    }

    std::uint64_t requests() const noexcept override { return engine_.stats().requests; }

private:
    // The API's extensions, read once from its landing page (a failed read: all tried).
    const StacAbilities& abilities() {
        if (abilities_) return *abilities_;
        HttpRequest r;
        r.url = stac_of(config_).api + "/";
        r.source = config_.alias;
        r.max_body_bytes = max_page_bytes;
        engine_.submit(std::move(r));
        json landing;
        engine_.run([&](HttpResult&& res) {
            if (res.ok) landing = parse_json_within_depth<json>(res.response.body);
        });
        abilities_ = stac_abilities(landing);
        return *abilities_;
    }

    // What a tile no item falls on is told: the search's terms, so a user sees what was asked.
    std::string no_item_message() const {
        const auto& c = config_;
        std::string m = "STAC " + stac_of(c).collection + " (" + c.alias + "): no item over this tile";
        if (!c.date_start.empty() || !c.date_end.empty())
            m += " between " + (c.date_start.empty() ? std::string("the start") : c.date_start) + " and " + (c.date_end.empty() ? std::string("now") : c.date_end);
        if (const auto& cloud = stac_of(c).max_cloud) m += " below " + std::to_string(static_cast<int>(*cloud)) + "% cloud";
        return m;
    }

    // The meta's record of the item that gives the tile its pixels (and its time): never a
    // token (hrefs are stored unsigned, and redacted in case an API hands out signed ones).
    std::string provenance(const StacItem& item) const {
        json p = {{"stac_item", item.id}, {"collection", item.collection}, {"datetime", item.datetime}};
        if (item.cloud_cover) p["cloud_cover"] = *item.cloud_cover;
        json assets = json::array();
        for (const auto& href : item.hrefs) assets.push_back(redact_url(href));
        p["assets"] = assets;
        p["api"] = redact_url(stac_of(config_).api);
        if (!config_.licence.empty()) p["licence"] = config_.licence;
        return p.dump(-1, ' ', false, json::error_handler_t::replace);
    }

    // One asset's pixels on the grid, signed when the source signs: a read refused (HTTP 403)
    // renews the token and is tried once more.
    RgbImage read_asset(const std::string& href, const TileGrid& grid) const {
        // Over HTTP only: a catalogue's href of another scheme (gopher://, ftp://, dict://)
        // would have /vsicurl/ (curl) send its bytes to whatever host and port it names.
        if (!http_address(href)) throw RasterError("asset " + one_line_text(href, 200) + ": not an http:// or https:// address; assets are read over HTTP only");
        const NoReaddirOnOpen no_readdir;
        read_rate_.take(); // requests_per_second: one turn a read (GDAL makes one to a few requests for it)
        if (!tokens_ || !signs(href)) return read_raster_tile("/vsicurl/" + href, grid, read_);
        const auto token = tokens_->token();
        try {
            return read_raster_tile("/vsicurl/" + signed_href(href, token), grid, read_);
        } catch (const RasterError&) {
            // A refused block read ends in GDAL's generic "IReadBlock failed" (the 403 is
            // logged on GDAL's own threads), so any failed read of a signed asset renews the
            // token once, unless it is too new to be the cause.
            const auto renewed = tokens_->renewed(token);
            if (!renewed) throw;
            read_rate_.take();
            return read_raster_tile("/vsicurl/" + signed_href(href, *renewed), grid, read_);
        }
    }

    // Whether an asset's href gets the token: its host is one of sign_hosts (a token sent to
    // any host a catalogue names would hand the storage's access to that host).
    bool signs(const std::string& href) const {
        const auto host = url_host(href);
        for (const auto& pattern : stac_of(config_).sign_hosts) {
            if (pattern.starts_with("*.") ? host.size() > pattern.size() - 1 && host.ends_with(pattern.substr(1)) : host == pattern) return true;
        }
        return false;
    }

    // One item's pixels on the grid: its RGB asset, or its three band assets side by side.
    RgbImage read_item(const StacItem& item, const TileGrid& grid) const {
        if (item.hrefs.size() == 1) return read_asset(item.hrefs[0], grid);
        RgbImage out;
        for (std::size_t c = 0; c < 3; ++c) {
            auto band = read_asset(item.hrefs[c], grid);
            if (c == 0) {
                out = band;
                continue;
            }
            for (std::size_t p = 0; p < out.valid.size(); ++p) {
                out.rgb[3 * p + c] = band.rgb[3 * p + c];
                out.valid[p] = out.valid[p] && band.valid[p];
            }
        }
        return out;
    }

    // The first item, then each next one where the tile still has no data, until it is
    // covered. The acquisition time and provenance are those of the item most of the tile shows
    // (the first of them on a tie): a first item whose footprint claims the tile but whose
    // pixels miss it gives it nothing, and is not the image's.
    RgbImage mosaic(const std::vector<const StacItem*>& items, const TileGrid& grid, long long& time_ms, const StacItem*& shown) const {
        RgbImage out;
        std::size_t most = 0;
        for (const auto* item : items) {
            auto img = read_item(*item, grid);
            std::size_t gave = 0;
            if (out.valid.empty()) {
                out = std::move(img);
                for (const auto v : out.valid) gave += v != 0;
            } else {
                for (std::size_t p = 0; p < out.valid.size(); ++p)
                    if (!out.valid[p] && img.valid[p]) {
                        out.valid[p] = 1;
                        for (int c = 0; c < 3; ++c) out.rgb[3 * p + c] = img.rgb[3 * p + c];
                        ++gave;
                    }
            }
            if (!shown || gave > most) shown = item, most = gave, time_ms = item->time_ms;
            if (out.valid_fraction() >= 1) break;
        }
        return out;
    }

    mutable HttpEngine engine_;
    int reads_in_flight_;           // COG reads at once: max_in_flight
    std::unique_ptr<ReadingThreads> readers_; // that many threads (this one among them), from the first fetch on
    mutable BlockingRate read_rate_; // and requests_per_second (the searches keep to it in the engine, apart)
    RasterReadOptions read_;
    std::unique_ptr<SasTokens> tokens_; // sign = "planetary-computer"
    std::optional<StacAbilities> abilities_;
};

class StacKind : public SourceKind {
public:
    std::string_view name() const override { return "stac"; }
    std::vector<std::string_view> keys() const override {
        return {"api", "collection", "assets", "bands", "stretch", "max_cloud", "sortby", "sign", "token_url", "sign_hosts", "max_items_mb", "requests_per_second", "max_in_flight"};
    }
    bool numbered_bands() const override { return true; }
    bool tells_year() const override { return true; }

    std::shared_ptr<const SourceSettings> parse(const SourceTable& table, const SourceConfig& common) const override {
        auto s = std::make_shared<StacSettings>();
        s->api = table.string("api", true);
        if (!s->api.starts_with("http://") && !s->api.starts_with("https://")) table.fail_at("api", "api must be an http:// or https:// URL (the STAC API root)");
        while (!s->api.empty() && s->api.back() == '/') s->api.pop_back();
        s->collection = table.string("collection", true);
        if (const auto* a = table.array("assets", "[\"visual\"] or [\"red\", \"green\", \"blue\"]")) {
            for (const auto& e : *a) {
                if (!e.is_string() || e.value<std::string>()->empty()) table.fail_at(e, "assets must be asset keys (strings)");
                s->assets.push_back(*e.value<std::string>());
            }
        }
        if (s->assets.size() != 1 && s->assets.size() != 3)
            table.fail("needs `assets`: one RGB asset (e.g. [\"visual\"]) or three single-band ones ([\"red\", \"green\", \"blue\"])");
        if (s->assets.size() == 3 && !common.bands.empty()) table.fail_at("bands", "bands pick bands within one RGB asset; with three assets leave it out");
        if (const auto c = table.number("max_cloud")) {
            if (!(*c >= 0 && *c <= 100)) table.fail_at("max_cloud", "max_cloud must be a percentage, 0..100");
            s->max_cloud = *c;
        }
        if (const auto* order = table.array("sortby", "[\"+eo:cloud_cover\", \"-datetime\"]")) {
            for (const auto& e : *order) {
                const auto text = e.value<std::string>();
                if (!text || text->size() < 2 || ((*text)[0] != '+' && (*text)[0] != '-'))
                    table.fail_at(e, "sortby takes \"+property\" (ascending) or \"-property\" (descending), e.g. [\"+eo:cloud_cover\", \"-datetime\"]");
                auto property = text->substr(1);
                if (property.starts_with("properties.")) property.erase(0, 11);
                s->sortby.push_back({property, (*text)[0] == '+'});
            }
            s->sortby_given = true;
        } else {
            if (s->max_cloud) s->sortby.push_back({"eo:cloud_cover", true});
            s->sortby.push_back({"datetime", false});
        }
        s->sign = table.string("sign", false);
        if (!s->sign.empty() && s->sign != "planetary-computer") table.fail_at("sign", "sign must be \"planetary-computer\" (or left out), got `" + s->sign + "`");
        if (table.get("token_url")) {
            if (s->sign.empty()) table.fail_at("token_url", "token_url is for sign = \"planetary-computer\"");
            s->token_url = table.string("token_url", true);
            while (!s->token_url.empty() && s->token_url.back() == '/') s->token_url.pop_back();
            // The token it hands out reads the storage: over plain http anyone on the way could
            // take or swap it (red-team round 29, left then).
            if (!secure_or_loopback(s->token_url))
                table.fail_at("token_url", "token_url must be an https:// address (or a loopback one, for a test server): the token it gives reads "
                                           "the storage, and `" + one_line_text(redact_url(s->token_url), 200) + "` is neither");
        }
        if (const auto* hosts = table.array("sign_hosts", "[\"*.blob.core.windows.net\"]")) {
            if (s->sign.empty()) table.fail_at("sign_hosts", "sign_hosts is for sign = \"planetary-computer\"");
            s->sign_hosts.clear();
            for (const auto& e : *hosts) {
                const auto host = e.value<std::string>();
                const auto bare = host && host->starts_with("*.") ? host->substr(2) : host.value_or("");
                if (bare.empty() || !std::all_of(bare.begin(), bare.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }))
                    table.fail_at(e, "sign_hosts takes host names, or \"*.\" and a domain (e.g. \"*.blob.core.windows.net\")");
                // "*.com" would hand the token to every host under a top-level domain.
                if (host->starts_with("*.") && bare.find('.') == std::string::npos)
                    table.fail_at(e, "sign_hosts: \"" + *host + "\" is every host of a top-level domain; name the storage's own domain (e.g. \"*.blob.core.windows.net\")");
                s->sign_hosts.push_back(*host);
            }
        }
        if (const auto mb = table.number("max_items_mb")) {
            if (!(*mb >= 1 && *mb <= 1e6)) table.fail_at("max_items_mb", "max_items_mb must be a number of megabytes, 1..1000000");
            s->max_items_mb = *mb;
        }
        if (!(common.gsd > 0)) table.fail("needs `gsd` (the metres per pixel to cut tiles at)");
        return s;
    }

    SourceKeyFields key_fields(const SourceConfig& source) const override {
        const auto& s = stac_of(source);
        SourceKeyFields fields;
        fields.url = s.api;
        std::string assets;
        for (const auto& a : s.assets) assets += (assets.empty() ? "" : ",") + a;
        fields.collection = s.collection + "#" + assets;
        if (s.sortby_given) { // another order may choose other items (the default's key is as before)
            fields.collection += "#sortby";
            for (const auto& k : s.sortby) fields.collection += (k.ascending ? "+" : "-") + k.property;
        }
        if (s.max_cloud) fields.cloud_property = "eo:cloud_cover<" + std::to_string(*s.max_cloud);
        return fields;
    }

    Usability usability(const SourceConfig& source, bool check) const override {
        if (!check) return usable("usable if " + redact_url(stac_of(source).api) + " answers (--check asks it)");
        HttpEngine engine;
        HttpRequest r;
        r.url = stac_of(source).api + "/collections/" + stac_of(source).collection;
        engine.submit(std::move(r));
        std::string why;
        engine.run([&](HttpResult&& res) {
            if (!res.ok) why = res.error;
        });
        return why.empty() ? usable("usable: the API has collection " + stac_of(source).collection) : not_usable(redact_url(why));
    }

    std::unique_ptr<ImageSource> open(const SourceConfig& source, const ImageSourceOptions& options) const override {
        return std::make_unique<StacImageSource>(source, options);
    }

    std::string explain_missing_tile(const SourceConfig& source, const FetchedTile& tile) const override {
        return tile.ok ? SourceKind::explain_missing_tile(source, tile) : tile.error;
    }

    std::optional<std::string> ignores(const SourceConfig& source, std::string_view setting) const override {
        if (setting == "stretch tile") return "--stretch tile is for gdal rasters";
        if (setting == "bands" && stac_of(source).assets.size() == 3) return "its three assets are its red, green and blue"; // a band from each
        return std::nullopt;
    }
};

} // namespace

const SourceKind& stac_kind() {
    static const StacKind kind;
    return kind;
}

} // namespace skyscript::imagery
