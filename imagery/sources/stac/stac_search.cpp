#include "imagery/sources/stac/stac_search.hpp"

#include "imagery/source_config.hpp"
#include "imagery/sources/stac/stac_kind.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace skyscript::imagery {

using json = nlohmann::json;

StacAbilities stac_abilities(const json& landing) {
    StacAbilities can{false, false};
    if (!landing.is_object() || !landing.contains("conformsTo") || !landing["conformsTo"].is_array()) return {}; // not told: try them
    for (const auto& c : landing["conformsTo"]) {
        if (!c.is_string()) continue;
        const auto text = c.get<std::string>();
        can.query = can.query || text.ends_with("item-search#query");
        can.sort = can.sort || text.ends_with("item-search#sort");
    }
    return can;
}

void stac_filter_and_sort(std::vector<StacItem>& items, const SourceConfig& source) {
    const auto& max_cloud = source.settings_as<StacSettings>().max_cloud;
    if (max_cloud)
        std::erase_if(items, [&](const StacItem& i) { return !i.cloud_cover || !(*i.cloud_cover < *max_cloud); });
    std::stable_sort(items.begin(), items.end(), [&](const StacItem& a, const StacItem& b) {
        if (max_cloud && *a.cloud_cover != *b.cloud_cover) return *a.cloud_cover < *b.cloud_cover;
        if (a.time_ms != b.time_ms) return a.time_ms > b.time_ms;
        return a.id < b.id;
    });
}

json stac_search_body(const SourceConfig& source, const LonLatBox& box, int limit, const StacAbilities& can) {
    const auto& stac = source.settings_as<StacSettings>();
    json body = {{"collections", {stac.collection}}, {"bbox", {box.west, box.south, box.east, box.north}}, {"limit", limit}};
    const std::string start = source.date_start.empty() ? ".." : source.date_start + "T00:00:00Z";
    const std::string end = source.date_end.empty() ? ".." : source.date_end + "T23:59:59Z";
    if (start != ".." || end != "..") body["datetime"] = start + "/" + end;
    json sortby = json::array();
    if (stac.max_cloud) {
        if (can.query) body["query"] = {{"eo:cloud_cover", {{"lt", *stac.max_cloud}}}};
        sortby.push_back({{"field", "properties.eo:cloud_cover"}, {"direction", "asc"}});
    }
    sortby.push_back({{"field", "properties.datetime"}, {"direction", "desc"}});
    if (can.sort) body["sortby"] = sortby;
    return body;
}

std::vector<StacItem> stac_items(const json& page, const std::vector<std::string>& assets) {
    if (!page.is_object() || !page.contains("features") || !page["features"].is_array())
        throw std::runtime_error("the search answer is not a FeatureCollection");
    std::vector<StacItem> items;
    for (const auto& f : page["features"]) {
        if (!f.is_object() || !f.contains("assets") || !f["assets"].is_object()) continue;
        StacItem item;
        item.id = f.value("id", "");
        item.collection = f.value("collection", "");
        const auto& bbox = f.contains("bbox") ? f["bbox"] : json();
        if (!bbox.is_array() || (bbox.size() != 4 && bbox.size() != 6)) continue;
        bool numbers = true;
        for (const auto& v : bbox) numbers = numbers && v.is_number();
        if (!numbers) continue;
        const std::size_t h = bbox.size() / 2; // 3D: [w, s, zmin, e, n, zmax]
        item.bbox = {bbox[0].get<double>(), bbox[1].get<double>(), bbox[h].get<double>(), bbox[h + 1].get<double>()};
        const auto& props = f.contains("properties") && f["properties"].is_object() ? f["properties"] : json::object();
        if (props.contains("datetime") && props["datetime"].is_string()) item.datetime = props["datetime"].get<std::string>();
        else if (props.contains("start_datetime") && props["start_datetime"].is_string()) item.datetime = props["start_datetime"].get<std::string>();
        item.time_ms = parse_iso_time_ms(item.datetime).value_or(0);
        if (props.contains("eo:cloud_cover") && props["eo:cloud_cover"].is_number()) item.cloud_cover = props["eo:cloud_cover"].get<double>();
        bool complete = true;
        for (const auto& key : assets) {
            const auto& a = f["assets"].contains(key) ? f["assets"][key] : json();
            if (!a.is_object() || !a.contains("href") || !a["href"].is_string()) {
                complete = false;
                break;
            }
            item.hrefs.push_back(a["href"].get<std::string>());
        }
        if (complete) items.push_back(std::move(item));
    }
    return items;
}

std::optional<StacNext> stac_next_page(const json& page, const json& sent) {
    if (!page.contains("links") || !page["links"].is_array()) return std::nullopt;
    for (const auto& link : page["links"]) {
        if (!link.is_object() || link.value("rel", "") != "next" || !link.contains("href") || !link["href"].is_string()) continue;
        StacNext next;
        next.url = link["href"].get<std::string>();
        next.method = link.value("method", "GET");
        if (next.method == "POST") {
            const auto& body = link.contains("body") && link["body"].is_object() ? link["body"] : json::object();
            if (link.value("merge", false)) {
                next.body = sent;
                for (const auto& [k, v] : body.items()) next.body[k] = v;
            } else {
                next.body = body;
            }
        }
        return next;
    }
    return std::nullopt;
}

std::vector<const StacItem*> stac_items_on_tile(const std::vector<StacItem>& items, const LonLatBox& tile) {
    std::vector<const StacItem*> out;
    for (const auto& item : items) {
        const auto& b = item.bbox;
        const bool lon = tile.crosses_antimeridian() || b.west > b.east ? true : !(b.east < tile.west || b.west > tile.east);
        if (lon && !(b.north < tile.south || b.south > tile.north)) out.push_back(&item);
    }
    return out;
}

std::optional<long long> parse_iso_time_ms(const std::string& text) {
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) < 6) {
        if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) < 3) return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = static_cast<int>(sec);
    long long ms = static_cast<long long>(timegm(&tm)) * 1000 + static_cast<long long>((sec - static_cast<int>(sec)) * 1000 + 0.5);
    // A numeric offset after the time (Z or nothing is UTC).
    const std::string rest = n > 0 && static_cast<std::size_t>(n) <= text.size() ? text.substr(static_cast<std::size_t>(n)) : "";
    int oh = 0, om = 0;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-') && std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) == 2)
        ms -= (rest[0] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL) * 1000;
    return ms;
}

} // namespace skyscript::imagery
