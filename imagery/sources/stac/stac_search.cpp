#include "imagery/sources/stac/stac_search.hpp"

#include "imagery/acquisition_time.hpp"

#include "imagery/source_config.hpp"
#include "imagery/sources/stac/stac_kind.hpp"
#include "imagery/url_parts.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace skyscript::imagery {

using json = nlohmann::json;

namespace {

// Whether the landing page's `search` links, if it has any, offer POST (a link without a
// method is GET's, the spec's default).
bool search_by_post(const json& landing) {
    if (!landing.is_object() || !landing.contains("links") || !landing["links"].is_array()) return true;
    bool any = false;
    for (const auto& link : landing["links"]) {
        if (!link.is_object() || !link.contains("rel") || link["rel"] != "search") continue;
        any = true;
        if (link.contains("method") && link["method"].is_string() && link["method"].get<std::string>() == "POST") return true;
    }
    return !any;
}

} // namespace

StacAbilities stac_abilities(const json& landing) {
    StacAbilities can{false, false, false, search_by_post(landing)};
    if (!landing.is_object() || !landing.contains("conformsTo") || !landing["conformsTo"].is_array()) return {true, true, false, can.post}; // not told: try them
    for (const auto& c : landing["conformsTo"]) {
        if (!c.is_string()) continue;
        const auto text = c.get<std::string>();
        can.query = can.query || text.ends_with("item-search#query");
        can.sort = can.sort || text.ends_with("item-search#sort");
        can.filter = can.filter || text.ends_with("item-search#filter");
    }
    return can;
}

namespace {

// Orders two values of one sort key: numbers by value, anything else by its text; a missing
// value (null) after any present one. Negative: a first.
int compare_values(const json& a, const json& b) {
    if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : a.is_null() ? 1 : -1;
    if (a.is_number() && b.is_number()) {
        const double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    const auto x = a.is_string() ? a.get<std::string>() : a.dump(), y = b.is_string() ? b.get<std::string>() : b.dump();
    return x.compare(y) < 0 ? -1 : x.compare(y) > 0 ? 1 : 0;
}

// An item property's value for sorting: datetime as ms since 1970 (so offsets compare right).
json sort_value(const json& props, const std::string& property, long long time_ms) {
    if (property == "datetime") return time_ms ? json(time_ms) : json();
    if (!props.contains(property)) return json();
    const auto& v = props[property];
    return v.is_number() || v.is_string() ? v : json();
}

// The href of the item's asset `wanted` (a key, or a pattern matched against keys and file names).
const json* find_asset(const json& assets, const std::string& wanted) {
    auto has_href = [](const json& a) { return a.is_object() && a.contains("href") && a["href"].is_string(); };
    if (wanted.find_first_of("*?[") == std::string::npos) {
        const auto it = assets.find(wanted);
        return it != assets.end() && has_href(*it) ? &*it : nullptr;
    }
    for (const auto& [key, a] : assets.items()) {
        if (!has_href(a)) continue;
        auto file = a["href"].get<std::string>();
        file = file.substr(0, file.find('?'));
        file = file.substr(file.rfind('/') == std::string::npos ? 0 : file.rfind('/') + 1);
        if (fnmatch(wanted.c_str(), key.c_str(), 0) == 0 || fnmatch(wanted.c_str(), file.c_str(), 0) == 0) return &a;
    }
    return nullptr;
}

} // namespace

void stac_filter_and_sort(std::vector<StacItem>& items, const SourceConfig& source) {
    const auto& stac = source.settings_as<StacSettings>();
    if (stac.max_cloud)
        std::erase_if(items, [&](const StacItem& i) { return !i.cloud_cover || !(*i.cloud_cover < *stac.max_cloud); });
    // What the search asked, checked again: a server that ignores `collections` or `datetime`
    // would put another product's or another year's pixels under this source's name and licence.
    std::erase_if(items, [&](const StacItem& i) { return !i.collection.empty() && i.collection != stac.collection; });
    if (!source.date_start.empty() || !source.date_end.empty())
        std::erase_if(items, [from_to = source.dates_span_ms()](const StacItem& i) {
            if (!i.span_start_ms || !i.span_end_ms) return true; // a time it does not tell cannot be within the dates
            return *i.span_end_ms < from_to.first || *i.span_start_ms > from_to.second;
        });
    std::stable_sort(items.begin(), items.end(), [&](const StacItem& a, const StacItem& b) {
        for (std::size_t k = 0; k < stac.sortby.size() && k < a.sort_values.size() && k < b.sort_values.size(); ++k) {
            const int c = compare_values(a.sort_values[k], b.sort_values[k]);
            const bool missing = a.sort_values[k].is_null() || b.sort_values[k].is_null(); // last either way
            if (c != 0) return (stac.sortby[k].ascending || missing) ? c < 0 : c > 0;
        }
        return a.id < b.id;
    });
}

json stac_search_body(const SourceConfig& source, const LonLatBox& box, int limit, const StacAbilities& can) {
    const auto& stac = source.settings_as<StacSettings>();
    json body = {{"collections", {stac.collection}}, {"bbox", {box.west, box.south, box.east, box.north}}, {"limit", limit}};
    const std::string start = source.date_start.empty() ? ".." : source.date_start + "T00:00:00Z";
    const std::string end = source.date_end.empty() ? ".." : source.date_end + "T23:59:59Z";
    if (start != ".." || end != "..") body["datetime"] = start + "/" + end;
    if (stac.max_cloud && can.query) {
        body["query"] = {{"eo:cloud_cover", {{"lt", *stac.max_cloud}}}};
    } else if (stac.max_cloud && can.filter) {
        body["filter"] = {{"op", "<"}, {"args", {{{"property", "eo:cloud_cover"}}, *stac.max_cloud}}};
        body["filter-lang"] = "cql2-json";
    }
    json sortby = json::array();
    for (const auto& k : stac.sortby)
        sortby.push_back({{"field", k.property == "id" ? k.property : "properties." + k.property}, {"direction", k.ascending ? "asc" : "desc"}});
    if (can.sort && !sortby.empty()) body["sortby"] = sortby;
    return body;
}

std::string stac_search_query(const json& body) {
    const auto joined = [](const json& list) {
        std::string out;
        for (const auto& v : list) {
            if (!out.empty()) out += ',';
            out += v.is_string() ? v.get<std::string>() : v.dump();
        }
        return out;
    };
    std::string q;
    const auto add = [&](const std::string& key, const std::string& value) {
        if (!q.empty()) q += '&';
        q += key;
        q += '=';
        q += percent_encoded(value);
    };
    for (const auto& [key, v] : body.items()) {
        if (key == "collections" || key == "bbox" || key == "ids") {
            add(key, joined(v));
        } else if (key == "sortby" && v.is_array()) {
            std::string keys;
            for (const auto& k : v) {
                if (!keys.empty()) keys += ',';
                keys += k.is_object() && k.value("direction", "asc") == "desc" ? '-' : '+';
                keys += k.is_object() ? k.value("field", "") : "";
            }
            add(key, keys);
        } else {
            add(key, v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    return q;
}

namespace {

// A member of `o` as text: a string as it is, a number as JSON writes it (an id of 12345),
// anything else (absent, null, an object) as `otherwise`. A server's answer of the wrong
// type is read as it can be, never thrown at the whole search.
std::string text_member(const json& o, const char* name, const std::string& otherwise = "") {
    const auto it = o.find(name);
    if (it == o.end()) return otherwise;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return it->dump();
    return otherwise;
}

// Whether `j` nests no deeper than `levels` arrays and objects. A server's JSON is written out
// again (a geometry for its shape, a next page's body for its request) by nlohmann's dump,
// which recurses once a level: an item of 100,000 nested arrays (200 KB) overflowed the stack.
bool nests_at_most(const json& j, int levels) {
    if (!j.is_structured()) return true;
    if (levels == 0) return false;
    for (const auto& v : j)
        if (!nests_at_most(v, levels - 1)) return false;
    return true;
}

const json& null_json() {
    static const json none;
    return none;
}
const json& empty_object() {
    static const json none = json::object();
    return none;
}

bool true_member(const json& o, const char* name) {
    const auto it = o.find(name);
    return it != o.end() && ((it->is_boolean() && it->get<bool>()) || (it->is_string() && it->get<std::string>() == "true"));
}

} // namespace

namespace {

// The `self` link's href of an item or page ("" without one).
std::string self_href(const json& o) {
    const auto it = o.find("links");
    if (it == o.end() || !it->is_array()) return "";
    for (const auto& link : *it)
        if (link.is_object() && text_member(link, "rel") == "self") return text_member(link, "href");
    return "";
}

// `href` resolved against `base` ("" or an unresolvable pair: `href` as it is, for the caller's checks to refuse).
std::string resolved(const std::string& base, const std::string& href) {
    if (base.empty()) return href;
    return resolve_url(base, href).value_or(href);
}

} // namespace

std::vector<StacItem> stac_items(const json& page, const std::vector<std::string>& assets, const std::vector<StacSortKey>& sortby, const std::string& page_url) {
    if (!page.is_object() || !page.contains("features") || !page["features"].is_array())
        throw std::runtime_error("the search answer is not a FeatureCollection");
    std::vector<StacItem> items;
    for (const auto& f : page["features"]) {
        if (!f.is_object() || !f.contains("assets") || !f["assets"].is_object()) continue;
        StacItem item;
        item.id = text_member(f, "id");
        item.collection = text_member(f, "collection");
        // References, not copies: a conditional with a temporary made a copy, and nlohmann's copy
        // recurses a level at a time (a page of 16 MiB nests millions deep).
        const auto& bbox = f.contains("bbox") ? f["bbox"] : null_json();
        if (!bbox.is_array() || (bbox.size() != 4 && bbox.size() != 6)) continue;
        bool numbers = true;
        for (const auto& v : bbox) numbers = numbers && v.is_number();
        if (!numbers) continue;
        const std::size_t h = bbox.size() / 2; // 3D: [w, s, zmin, e, n, zmax]
        item.bbox = {bbox[0].get<double>(), bbox[1].get<double>(), bbox[h].get<double>(), bbox[h + 1].get<double>()};
        const auto& props = f.contains("properties") && f["properties"].is_object() ? f["properties"] : empty_object();
        if (props.contains("datetime") && props["datetime"].is_string()) item.datetime = props["datetime"].get<std::string>();
        else if (props.contains("start_datetime") && props["start_datetime"].is_string()) item.datetime = props["start_datetime"].get<std::string>();
        const auto told = parse_iso_time_ms(item.datetime);
        item.time_ms = told ? known_acquisition_time(*told) : 0;
        // Its span: start_datetime..end_datetime when it gives both (a composite's; APIs match the
        // search's datetime on that range), else its datetime.
        const auto start = text_member(props, "start_datetime"), end = text_member(props, "end_datetime");
        item.span_start_ms = parse_iso_time_ms(start.empty() || end.empty() ? item.datetime : start);
        item.span_end_ms = start.empty() || end.empty() ? item.span_start_ms : parse_iso_time_ms(end);
        // A MultiPolygon is 5 levels deep (its object, then 4 of arrays); deeper is no footprint: the bbox serves.
        if (const auto g = f.find("geometry"); g != f.end() && g->is_object() && nests_at_most(*g, 8)) try {
                item.footprint = coverage_from_geojson(g->dump(), "item " + item.id);
            } catch (const CoverageError&) { // not a polygon, or across the antimeridian: the bbox serves
            }
        if (props.contains("eo:cloud_cover") && props["eo:cloud_cover"].is_number()) item.cloud_cover = props["eo:cloud_cover"].get<double>();
        bool complete = true;
        const auto self = self_href(f);
        const auto item_url = self.empty() ? page_url : resolved(page_url, self);
        for (const auto& key : assets) {
            const auto* a = find_asset(f["assets"], key);
            if (!a) {
                complete = false;
                break;
            }
            item.hrefs.push_back(resolved(item_url, (*a)["href"].get<std::string>()));
        }
        for (const auto& k : sortby) item.sort_values.push_back(k.property == "id" ? json(item.id) : sort_value(props, k.property, item.time_ms));
        if (complete) items.push_back(std::move(item));
    }
    return items;
}

std::optional<StacNext> stac_next_page(const json& page, const json& sent, const std::string& page_url) {
    if (!page.contains("links") || !page["links"].is_array()) return std::nullopt;
    for (const auto& link : page["links"]) {
        if (!link.is_object() || text_member(link, "rel") != "next" || !link.contains("href") || !link["href"].is_string()) continue;
        StacNext next;
        next.url = resolved(page_url, link["href"].get<std::string>());
        next.method = text_member(link, "method", "GET") == "POST" ? "POST" : "GET";
        if (next.method == "POST") {
            const auto& body = link.contains("body") && link["body"].is_object() ? link["body"] : empty_object();
            if (!nests_at_most(body, 64)) throw std::runtime_error("the next page's link holds a body nested deeper than 64 levels");
            if (true_member(link, "merge")) {
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

std::optional<std::uint64_t> stac_matched(const json& page) {
    const auto count = [](const json& o, const char* name) -> std::optional<std::uint64_t> {
        const auto it = o.find(name);
        if (it == o.end() || !it->is_number_integer() || it->get<long long>() < 0) return std::nullopt;
        return static_cast<std::uint64_t>(it->get<long long>());
    };
    if (!page.is_object()) return std::nullopt;
    if (const auto n = count(page, "numberMatched")) return n;
    if (const auto c = page.find("context"); c != page.end() && c->is_object()) return count(*c, "matched");
    return std::nullopt;
}

std::size_t stac_item_bytes(const StacItem& item) {
    std::size_t bytes = sizeof(StacItem) + item.id.capacity() + item.collection.capacity() + item.datetime.capacity();
    for (const auto& href : item.hrefs) bytes += sizeof(href) + href.capacity();
    for (const auto& value : item.sort_values) bytes += sizeof(value) + (value.is_string() ? value.get_ref<const std::string&>().capacity() : 0);
    if (item.footprint) bytes += sizeof(CoverageShape) + 48 * item.footprint->vertex_count() + 64 * item.footprint->part_count();
    return bytes;
}

std::vector<const StacItem*> stac_items_on_tile(const std::vector<StacItem>& items, const LonLatBox& tile) {
    std::vector<const StacItem*> out;
    for (const auto& item : items) {
        if (item.footprint) {
            if (item.footprint->meets_box(tile)) out.push_back(&item);
            continue;
        }
        const auto& b = item.bbox;
        const bool lon = tile.crosses_antimeridian() || b.west > b.east ? true : !(b.east < tile.west || b.west > tile.east);
        if (lon && !(b.north < tile.south || b.south > tile.north)) out.push_back(&item);
    }
    return out;
}

std::optional<long long> parse_iso_time_ms(const std::string& original) {
    // RFC 3339 lets the 'T' and the 'Z' be lower case, and the 'T' be a space (section 5.6's note).
    std::string text = original;
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) < 6) {
        if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) < 3) return std::nullopt;
    }
    if (!(sec >= 0 && sec < 61)) return std::nullopt;
    // A leap second (23:59:60) is its minute's last millisecond, not the next minute's first:
    // 2016-12-31T23:59:60Z is still 2016. A fraction is cut to the millisecond, never rounded up
    // into the next second (59.9996 would have been the next year's first).
    const bool leap = sec >= 60;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = leap ? 59 : static_cast<int>(sec);
    // The milliseconds of `sec` itself (59.001 is 59000.999... in binary: cut, that lost one);
    // a nanosecond's margin is below any time's last written digit.
    const long long sec_ms = static_cast<long long>(std::floor(sec * 1000 + 1e-6));
    long long ms = static_cast<long long>(timegm(&tm)) * 1000 + (leap ? 999 : sec_ms - static_cast<long long>(tm.tm_sec) * 1000);
    // A numeric offset after the time (Z or nothing is UTC).
    const std::string rest = n > 0 && static_cast<std::size_t>(n) <= text.size() ? text.substr(static_cast<std::size_t>(n)) : "";
    int oh = 0, om = 0;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-') && std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) == 2)
        ms -= (rest[0] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL) * 1000;
    return ms;
}

} // namespace skyscript::imagery
