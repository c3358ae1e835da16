#include "earthengine_source.hpp"

#include "image_decode.hpp"

#include <map>
#include <memory>

namespace skyscript::imagery {

namespace {

using json = nlohmann::json;

json constant(json v) { return {{"constantValue", std::move(v)}}; }
json invoke(const std::string& name, json arguments) {
    return {{"functionInvocationValue", {{"functionName", name}, {"arguments", std::move(arguments)}}}};
}

} // namespace

json earthengine_image_node(const SourceConfig& s, const TileGrid& grid) {
    const auto& b = grid.box;
    const json region = invoke("GeometryConstructors.Rectangle",
                               {{"coordinates", constant(json::array({b.west, b.south, b.east, b.north}))},
                                {"geodesic", constant(false)}});
    json collection = invoke("ImageCollection.load", {{"id", constant(s.collection)}});
    collection = invoke("Collection.filter",
                        {{"collection", collection},
                         {"filter", invoke("Filter.intersects", {{"leftField", constant(".all")},
                                                                 {"rightValue", invoke("Feature", {{"geometry", region}})}})}});
    const std::string start = s.date_start.empty() ? "1970-01-01" : s.date_start;
    const std::string end = s.date_end.empty() ? "2100-01-01" : s.date_end;
    collection = invoke("Collection.filter",
                        {{"collection", collection},
                         {"filter", invoke("Filter.dateRangeContains",
                                           {{"leftValue", invoke("DateRange", {{"start", constant(start)}, {"end", constant(end)}})},
                                            {"rightField", constant("system:time_start")}})}});
    // Most recent first, then (stable) least cloudy first: the least cloudy of the recent.
    collection = invoke("Collection.limit",
                        {{"collection", collection}, {"key", constant("system:time_start")}, {"ascending", constant(false)}});
    if (!s.cloud_property.empty())
        collection = invoke("Collection.limit",
                            {{"collection", collection}, {"key", constant(s.cloud_property)}, {"ascending", constant(true)}});
    return invoke("Collection.first", {{"collection", collection}});
}

json earthengine_compute_pixels_body(const SourceConfig& s, const TileGrid& grid) {
    json vis = {{"image", earthengine_image_node(s, grid)}, {"bands", constant(s.bands)}};
    if (s.stretch) {
        vis["min"] = constant(s.stretch->first);
        vis["max"] = constant(s.stretch->second);
    }
    return {{"expression", {{"result", "0"}, {"values", {{"0", invoke("Image.visualize", vis)}}}}},
            {"fileFormat", "PNG"},
            {"grid",
             {{"dimensions", {{"width", grid.width}, {"height", grid.height}}},
              {"affineTransform",
               {{"scaleX", grid.geotransform[1]}, {"shearX", grid.geotransform[2]}, {"translateX", grid.geotransform[0]},
                {"shearY", grid.geotransform[4]}, {"scaleY", grid.geotransform[5]}, {"translateY", grid.geotransform[3]}}},
              {"crsCode", grid.crs()}}},
            {"workloadTag", "skyscript-build"}};
}

json earthengine_time_body(const SourceConfig& s, const TileGrid& grid) {
    const json get = invoke("Element.get", {{"object", earthengine_image_node(s, grid)}, {"property", constant("system:time_start")}});
    return {{"expression", {{"result", "0"}, {"values", {{"0", get}}}}}, {"workloadTag", "skyscript-build"}};
}

std::optional<std::string> earthengine_request_too_large(const TileGrid& grid) {
    if (grid.width > earthengine_max_side_px || grid.height > earthengine_max_side_px)
        return "tile of " + std::to_string(grid.width) + " px is over Earth Engine's 32,768 px a side";
    const std::uint64_t bytes = std::uint64_t(grid.width) * std::uint64_t(grid.height) * 3;
    if (bytes > earthengine_max_request_bytes)
        return "tile of " + std::to_string(grid.width) + "x" + std::to_string(grid.height) + " px is " + std::to_string(bytes) +
               " bytes, over Earth Engine's 50,331,648 bytes a request";
    return std::nullopt;
}

std::string describe_earthengine_failure(const HttpResult& r, const SourceConfig& s) {
    std::string message;
    try {
        const auto j = json::parse(r.error_detail);
        message = j.at("error").value("message", "");
    } catch (const std::exception&) {
    }
    const std::string said = message.empty() ? "" : ": " + message;
    const std::string where = "Earth Engine (" + s.alias + ", " + s.collection + ")";
    switch (r.response.status) {
        case 400:
            if (message.find("is required") != std::string::npos || message.find("null") != std::string::npos)
                return where + ": no image over this tile between " + (s.date_start.empty() ? "the start" : s.date_start) + " and " +
                       (s.date_end.empty() ? "now" : s.date_end) + " (HTTP 400" + said + ")";
            return where + " rejected the request (HTTP 400" + said + ")";
        case 401: return where + " refused the access token (HTTP 401" + said + "); check the service-account key";
        case 403:
            return where + ": permission denied (HTTP 403" + said +
                   "); the Cloud project must be registered for Earth Engine and the service account given access";
        case 404: return where + ": not found (HTTP 404" + said + "); check the collection id and the project";
        case 429: return where + ": quota exceeded (" + r.error + said + "); lower requests_per_second or max_in_flight";
        default: return where + ": " + r.error + said;
    }
}

void fetch_earthengine_images(const SourceConfig& s, const std::string& project,
                              const std::vector<std::pair<std::uint64_t, TileGrid>>& grids, HttpEngine& engine,
                              TokenCache& tokens, const std::function<void(EarthEngineImage&&)>& on_image) {
    const int in_flight = s.max_in_flight > 0 ? std::min(s.max_in_flight, earthengine_max_in_flight) : earthengine_max_in_flight;
    const double rate = s.requests_per_second > 0 ? std::min(s.requests_per_second, earthengine_max_requests_per_second)
                                                  : earthengine_max_requests_per_second;
    engine.set_max_in_flight(s.alias, in_flight);
    engine.set_rate(s.alias, rate, rate);
    struct Pending {
        EarthEngineImage result;
        int remaining = 2;
    };
    std::map<std::uint64_t, Pending> pending;
    // Each request takes the token when it is sent (a batch may outlive many tokens; the
    // cache renews them before they expire), and after a 401 the token it was sent with is
    // dropped and the request sent again once. The first token is taken before anything is
    // queued, so a key the token endpoint refuses fails the call at once; refused later (a
    // key revoked mid-batch), the rest of the batch fails with that message, asking no more.
    bool have_token = false;
    std::optional<std::string> key_refused;
    auto authorize = [&tokens, &key_refused](HttpRequest& r) {
        auto sent = std::make_shared<std::string>(); // the token this request went with
        r.headers = {"Content-Type: application/json"};
        r.start_headers = [&tokens, &key_refused, sent]() -> std::vector<std::string> {
            if (key_refused) throw CredentialsError(*key_refused);
            try {
                *sent = tokens.token();
            } catch (const CredentialsError& e) {
                key_refused = e.what();
                throw;
            }
            return {"Authorization: Bearer " + *sent};
        };
        r.renew_credentials = [&tokens, sent] { tokens.invalidate(*sent); };
    };
    const std::string base = s.endpoint + "/v1/projects/" + project;
    for (std::size_t i = 0; i < grids.size(); ++i) {
        const auto& [id, grid] = grids[i];
        if (auto why = earthengine_request_too_large(grid)) {
            EarthEngineImage r;
            r.id = id;
            r.error = *why;
            on_image(std::move(r));
            continue;
        }
        if (!have_token) {
            (void)tokens.token();
            have_token = true;
        }
        Pending& slot = pending[i]; // std::map: the reference stays valid while others are added
        slot.result.id = id;
        HttpRequest pixels;
        pixels.id = i * 2;
        pixels.url = base + "/image:computePixels";
        pixels.method = "POST";
        pixels.body = earthengine_compute_pixels_body(s, grid).dump();
        authorize(pixels);
        pixels.source = s.alias;
        pixels.cacheable = true;
        const int w = grid.width, h = grid.height;
        // The validation decodes the image; the decoded pixels are kept, not decoded again.
        pixels.validate = [w, h, image = &slot.result.image](const HttpResponse& resp) -> std::optional<std::string> {
            if (resp.content_type.rfind("image/", 0) != 0) return "content type " + resp.content_type;
            try {
                auto img = decode_image(resp.body);
                if (img.width != w || img.height != h) return "image is " + std::to_string(img.width) + "x" + std::to_string(img.height);
                *image = std::move(img);
            } catch (const std::exception& e) {
                return std::string(e.what());
            }
            return std::nullopt;
        };
        HttpRequest time;
        time.id = i * 2 + 1;
        time.url = base + "/value:compute";
        time.method = "POST";
        time.body = earthengine_time_body(s, grid).dump();
        authorize(time);
        time.source = s.alias;
        time.validate = [](const HttpResponse& resp) -> std::optional<std::string> {
            try {
                (void)json::parse(resp.body).at("result");
            } catch (const std::exception&) {
                return std::string("value:compute answer has no result");
            }
            return std::nullopt;
        };
        engine.submit(std::move(pixels));
        engine.submit(std::move(time));
    }
    engine.run([&](HttpResult&& r) {
        auto it = pending.find(r.id / 2);
        if (it == pending.end()) return;
        Pending& p = it->second;
        if (!r.ok) {
            if (p.result.error.empty())
                p.result.error = r.response.status == 0 && key_refused && r.error == *key_refused
                                     ? *key_refused // the key's own message, as when it is refused at the start
                                     : describe_earthengine_failure(r, s);
        } else if (r.id % 2 == 1) {
            const auto v = json::parse(r.response.body).at("result");
            if (v.is_number()) p.result.time_ms = v.get<long long>();
        }
        if (--p.remaining > 0) return;
        p.result.ok = p.result.error.empty();
        if (!p.result.ok) p.result.image = {};
        on_image(std::move(p.result));
        pending.erase(it);
    });
}

} // namespace skyscript::imagery
