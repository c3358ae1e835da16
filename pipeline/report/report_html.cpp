#include "pipeline/report/report_html.hpp"

#include "imagery/json_depth.hpp"
#include "pipeline/report/html_text.hpp"
#include "pipeline/report/svg_chart.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace skyscript::pipeline {

namespace {

constexpr const char* style = R"CSS(
:root { --ink:#1d2733; --muted:#66727f; --line:#e3e8ee; --bg:#f5f7fa; --accent:#2b7bba; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--ink); background:var(--bg); }
header { background:linear-gradient(120deg,#123047,#1f5f8b 60%,#2b7bba); color:#fff; padding:28px 40px 84px; }
header h1 { margin:0 0 4px; font-size:26px; font-weight:650; letter-spacing:.2px; }
header p { margin:2px 0; opacity:.85; font-size:13.5px; }
header code { color:#fff; background:rgba(255,255,255,.14); padding:1px 6px; border-radius:4px; }
main { max-width:1240px; margin:-64px auto 40px; padding:0 24px; }
.cards { display:grid; grid-template-columns:repeat(5,1fr); gap:14px; }
.stat { background:#fff; border-radius:12px; padding:16px 18px; box-shadow:0 2px 10px rgba(16,40,64,.10); }
.stat b { display:block; font-size:30px; font-weight:700; color:var(--ink); font-variant-numeric:tabular-nums; }
.stat span { color:var(--muted); font-size:13px; }
.stat.bad b { color:#c8453a; }
section { background:#fff; border-radius:12px; padding:20px 24px; margin-top:18px; box-shadow:0 1px 4px rgba(16,40,64,.06); }
section h2 { margin:0 0 12px; font-size:18px; }
section h3 { margin:14px 0 6px; font-size:14px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.5px; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:24px; }
.mapgrid { display:grid; grid-template-columns:minmax(0,3fr) minmax(0,2fr); gap:24px; align-items:start; }
.muted { color:var(--muted); fill:var(--muted); }
svg.chart { width:100%; height:auto; display:block; }
svg .label, svg .value, svg .tick, svg .axis, svg .marklabel { font:12px system-ui, sans-serif; fill:#38434f; }
svg .tick { fill:#7a8692; font-size:11px; }
svg .frame { fill:#fbfcfd; stroke:#d5dce3; }
svg .grid { stroke:#e8edf2; }
svg .curve { fill:none; stroke:#2b7bba; stroke-width:2.5; }
svg .area { fill:#2b7bba; opacity:.10; }
svg .dot { fill:#2b7bba; }
svg .mark { stroke:#e8743b; stroke-dasharray:4 3; }
svg .marklabel { fill:#c05a22; font-weight:600; }
svg .sea { fill:#eef3f8; stroke:#d5dce3; }
svg .box { fill-opacity:var(--box-fill,.35); stroke-opacity:var(--box-stroke,.9); stroke-width:.8; }
svg .failedbox { fill:#e05a4f; fill-opacity:.08; stroke:#c8453a; stroke-width:.8; stroke-dasharray:3 2; }
.statusbar { display:flex; height:14px; border-radius:7px; overflow:hidden; background:var(--line); margin:8px 0 6px; }
.statusbar div { height:100%; }
.legend { display:flex; flex-wrap:wrap; gap:14px; font-size:13px; color:var(--muted); }
.legend i { display:inline-block; width:11px; height:11px; border-radius:3px; margin-right:5px; vertical-align:-1px; }
table { border-collapse:collapse; width:100%; font-size:13.5px; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12.5px; }
td.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td code, .card code { font-size:12px; background:#f0f3f6; padding:1px 5px; border-radius:4px; word-break:break-all; }
.filters { display:flex; gap:12px; align-items:center; margin-bottom:14px; flex-wrap:wrap; }
.filters select { font:inherit; padding:5px 8px; border-radius:6px; border:1px solid #cfd7df; background:#fff; }
#gallery { display:grid; grid-template-columns:repeat(auto-fill,minmax(200px,1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:10px; overflow:hidden; background:#fff; display:flex; flex-direction:column; }
.card a { display:block; background:#dde3e9; position:relative; }
.card svg.outline { position:absolute; left:0; top:0; width:100%; height:100%; pointer-events:none; }
.card svg.outline path { fill:none; stroke:#ffe14d; stroke-width:2; stroke-linejoin:round; paint-order:stroke; }
.card svg.outline path.w { stroke-width:3; }
.card svg.outline path.a { fill:rgba(255,225,77,0.16); fill-rule:evenodd; }
.card img { width:100%; aspect-ratio:1/1; object-fit:cover; display:block; }
.card .txt { padding:8px 10px 10px; font-size:12px; display:flex; flex-direction:column; flex:1; }
.card .t1 { font-weight:600; margin-bottom:3px; }
.card .t2 { color:#4a5561; margin-bottom:6px; }
.card .t3 { font-style:italic; margin-bottom:6px; }
.card .meta { display:flex; justify-content:space-between; align-items:center; gap:6px; color:var(--muted); font-size:11.5px; margin-top:auto; }
.card .stem { margin-bottom:6px; }
.pill { display:inline-block; padding:0 7px; border-radius:9px; color:#fff; font-size:11px; font-weight:600; }
details summary { cursor:pointer; color:var(--accent); }
footer { text-align:center; color:var(--muted); font-size:12px; margin:24px 0; }
@media (max-width:900px) { .cards { grid-template-columns:repeat(2,1fr); } .grid2, .mapgrid { grid-template-columns:1fr; } }
)CSS";

// Filters the gallery by source and tag (also from the URL: report.html#source=S&tag=K=V,
// a link people can share); after the page loads, records how many thumbnails loaded
// (data-loaded / data-broken) so a headless browser can check it.
constexpr const char* script = R"JS(
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll('#gallery .card'));
  var source = document.getElementById('filter-source'), tag = document.getElementById('filter-tag');
  var shown = document.getElementById('gallery-shown');
  function apply() {
    var n = 0;
    cards.forEach(function (c) {
      var ok = (!source.value || c.dataset.source === source.value) && (!tag.value || c.dataset.tag === tag.value);
      c.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n;
  }
  source.addEventListener('change', apply);
  tag.addEventListener('change', apply);
  new URLSearchParams(location.hash.slice(1)).forEach(function (v, k) {
    var select = k === 'source' ? source : k === 'tag' ? tag : null;
    if (select && Array.prototype.some.call(select.options, function (o) { return o.value === v; })) select.value = v;
  });
  apply();
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.querySelectorAll('#gallery img'));
    var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    var g = document.getElementById('gallery');
    g.dataset.loaded = ok;
    g.dataset.broken = imgs.length - ok;
    // Outlines that lie exactly over their image (same box on the page) and draw something.
    g.dataset.outlined = Array.prototype.filter.call(document.querySelectorAll('#gallery svg.outline'), function (s) {
      var i = s.parentNode.querySelector('img').getBoundingClientRect(), r = s.getBoundingClientRect(), b = s.querySelector('path').getBBox();
      return Math.abs(i.left - r.left) < 1 && Math.abs(i.top - r.top) < 1 && Math.abs(i.width - r.width) < 1 && Math.abs(i.height - r.height) < 1 &&
             b.width + b.height > 0;
    }).length;
    document.body.dataset.ready = 'yes';
  });
})();
)JS";

// The focus object's outline over a gallery image, in the image's own pixels (viewBox), so it
// scales with the card; stroke widths stay in screen pixels.
std::string outline_svg(const ReportImage& im) {
    if (im.outline.path.empty() || im.size_px <= 0) return "";
    const auto size = std::to_string(im.size_px);
    return "<svg class=\"outline\" viewBox=\"0 0 " + size + " " + size + "\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><path class=\"" +
           std::string(1, im.outline.kind) + "\" vector-effect=\"non-scaling-stroke\" d=\"" + html_escape(im.outline.path) + "\"/></svg>";
}

std::string stat_card(const std::string& key, std::int64_t value, const std::string& label, bool bad = false) {
    return "<div class=\"stat" + std::string(bad && value > 0 ? " bad" : "") + "\" data-key=\"" + key + "\" data-value=\"" +
           std::to_string(value) + "\"><b>" + thousands(value) + "</b><span>" + html_escape(label) + "</span></div>";
}

const std::map<std::string, std::string> status_colour{
    {"written", "#19a979"}, {"fetched", "#2b7bba"}, {"planned", "#c9d3dd"}, {"failed", "#e05a4f"}};

std::string status_bar(const std::map<std::string, std::int64_t>& by_status, std::int64_t total) {
    std::string bar = "<div class=\"statusbar\">", legend = "<div class=\"legend\">";
    for (const char* st : {"written", "fetched", "planned", "failed"}) {
        const auto n = by_status.count(st) ? by_status.at(st) : 0;
        const double pct = total > 0 ? 100.0 * double(n) / double(total) : 0;
        bar += "<div style=\"width:" + fixed(pct, 3) + "%;background:" + status_colour.at(st) + "\" title=\"" + st + "\"></div>";
        legend += "<span data-status=\"" + std::string(st) + "\" data-value=\"" + std::to_string(n) + "\"><i style=\"background:" +
                  status_colour.at(st) + "\"></i>" + st + " " + thousands(n) + "</span>";
    }
    return bar + "</div>" + legend + "</div>";
}

std::vector<Bar> bars_of(const std::map<std::string, std::int64_t>& counts, std::size_t top, const std::map<std::string, std::string>& colours = {}) {
    std::vector<Bar> bars;
    for (const auto& [k, n] : counts) bars.push_back({k, double(n), colours.count(k) ? colours.at(k) : "", ""});
    std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.value > b.value; });
    if (bars.size() > top) {
        double rest = 0;
        const auto others = bars.size() - top;
        for (std::size_t i = top; i < bars.size(); ++i) rest += bars[i].value;
        bars.resize(top);
        bars.push_back({"(" + thousands(static_cast<std::int64_t>(others)) + " more)", rest, "#a9b4bf", ""});
    }
    return bars;
}

std::string gsd_label(double m) { return fixed(m, m < 1 ? 2 : 1) + " m"; }

std::string table_row(std::initializer_list<std::string> cells, std::initializer_list<bool> numeric = {}) {
    std::string s = "<tr>";
    auto n = numeric.begin();
    for (const auto& c : cells) {
        const bool right = n != numeric.end() && *n;
        s += right ? "<td class=\"n\">" : "<td>";
        s += c + "</td>";
        if (n != numeric.end()) ++n;
    }
    return s + "</tr>";
}

} // namespace

std::string report_html(const ReportData& r) {
    std::vector<std::string> sources;
    for (const auto& [s, _] : r.source_status) sources.push_back(s);
    const auto colours = source_colours(sources);
    const auto input = r.tool.count("input") ? r.tool.at("input") : "";

    std::string h;
    h.reserve(1 << 20);
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
    h += "<title>Dataset report · " + html_escape(r.out_dir) + "</title><style>" + std::string(style) + "</style></head><body>";
    h += "<header><h1>SkyScript-style dataset report</h1>";
    h += "<p>Build <code>" + html_escape(r.out_dir) + "</code> from <code>" + html_escape(input.empty() ? "?" : input) + "</code>";
    if (r.tool.count("input_osm_timestamp") && !r.tool.at("input_osm_timestamp").empty())
        h += " (OSM data of " + html_escape(r.tool.at("input_osm_timestamp")) + ")";
    h += "</p><p>Generated " + html_escape(r.generated_at) + " by " + html_escape(r.tool.at("version")) + " · seed " + std::to_string(r.seed) + "</p></header>";

    h += "<main><div class=\"cards\" id=\"headline\">";
    h += stat_card("pairs", r.pairs, "image–text pairs");
    h += stat_card("distinct_tags", r.distinct_focus_tags, "distinct focus tags");
    h += stat_card("distinct_captions", r.distinct_titles, "distinct captions");
    h += stat_card("sources", static_cast<std::int64_t>(r.pairs_by_source.size()), "imagery sources");
    h += stat_card("failures", r.failed, "failed jobs", true);
    h += "</div>";

    h += "<section id=\"jobs\"><h2>Jobs</h2><div class=\"muted\">" + thousands(r.jobs) + " planned jobs in the state DB; " +
         thousands(r.skipped_total) + " sampled objects got no job (reasons below)." +
         (r.reused || r.reuse_not_needed
              ? " <span id=\"reuse\" data-reused=\"" + std::to_string(r.reused) + "\">" + thousands(r.reused) +
                    " images taken from earlier builds (--reuse), " + thousands(r.fetched_anew) + " fetched anew, " +
                    thousands(r.reuse_not_needed) + " of the earlier builds' not needed.</span>"
              : std::string()) +
         "</div>" + status_bar(r.jobs_by_status, r.jobs) + "</section>";

    // Sources, resolution, years.
    std::vector<Bar> gsd;
    for (const auto& [m, n] : r.pairs_by_gsd) gsd.push_back({gsd_label(m), double(n), "#13a4b4", ""});
    if (gsd.size() > 24) { // keep the finest and coarsest readable: bucket by doubling
        std::map<int, std::int64_t> octaves;
        for (const auto& [m, n] : r.pairs_by_gsd) octaves[int(std::floor(std::log2(std::max(m, 0.01))))] += n;
        gsd.clear();
        for (const auto& [o, n] : octaves) gsd.push_back({gsd_label(std::ldexp(1.0, o)) + "–" + gsd_label(std::ldexp(1.0, o + 1)), double(n), "#13a4b4", ""});
    }
    std::vector<Bar> years;
    for (const auto& [y, n] : r.pairs_by_year) years.push_back({y == "0" ? "unknown" : y, double(n), "#945ecf", ""});
    h += "<section id=\"sources\"><h2>Where the pairs come from</h2><div class=\"grid2\"><div><h3>Pairs by source</h3>" +
         bar_chart_svg("chart-source", bars_of(r.pairs_by_source, 12, colours)) + "<h3>Pairs by acquisition year</h3>" +
         bar_chart_svg("chart-year", years) + "</div><div><h3>Pairs by ground sample distance</h3>" + bar_chart_svg("chart-gsd", gsd) +
         "</div></div></section>";

    // Tags.
    std::int64_t ge100 = 0, ge1000 = 0;
    for (auto c : r.tag_image_counts) ge100 += c >= 100, ge1000 += c >= 1000;
    std::vector<Bar> top;
    for (std::size_t i = 0; i < r.top_tags.size() && i < 20; ++i) top.push_back({r.top_tags[i].first, double(r.top_tags[i].second), "#2b7bba", ""});
    h += "<section id=\"tags\"><h2>Focus tags</h2><p class=\"muted\">" + thousands(r.distinct_focus_tags) + " distinct focus tags (" +
         thousands(r.distinct_tags) + " distinct tags across all centre objects); <b data-key=\"tags_ge_100\" data-value=\"" + std::to_string(ge100) +
         "\">" + thousands(ge100) + "</b> have at least 100 images, <b data-key=\"tags_ge_1000\" data-value=\"" + std::to_string(ge1000) + "\">" +
         thousands(ge1000) + "</b> at least 1,000 (the paper's Fig. 4b).</p><div class=\"grid2\"><div><h3>Tags with at least N images</h3>" +
         tag_curve_svg("chart-tag-curve", r.tag_curve) + "</div><div><h3>Most frequent focus tags</h3>" + bar_chart_svg("chart-top-tags", top) +
         "</div></div></section>";

    // Map.
    h += "<section id=\"map\"><h2>Where the images are</h2><p class=\"muted\">" +
         (r.boxes.size() < static_cast<std::size_t>(r.pairs) ? "A seeded sample of " + thousands(static_cast<std::int64_t>(r.boxes.size())) + " of the "
                                                             : std::string("All ")) +
         thousands(r.pairs) + " image boxes on a longitude/latitude frame, coloured by source" +
         (r.failed_boxes.empty() ? std::string(".") : "; dashed red outlines: " + thousands(static_cast<std::int64_t>(r.failed_boxes.size())) +
                                                       (r.failed_boxes.size() == 1 ? " failed job" : " failed jobs") +
                                                       (static_cast<std::int64_t>(r.failed_boxes.size()) < r.failed ? " (a sample)." : ".")) +
         "</p><div class=\"mapgrid\"><div>" + box_map_svg("chart-map", r.boxes, r.failed_boxes, colours) +
         "</div><div><h3>Jobs by source</h3><table><tr><th>source</th><th>pairs</th><th>failed</th><th>planned</th></tr>";
    for (const auto& s : sources) {
        const auto& st = r.source_status.at(s);
        auto n = [&](const char* k) { return thousands(st.count(k) ? st.at(k) : 0); };
        h += table_row({"<span class=\"pill\" style=\"background:" + colours.at(s) + "\">" + html_escape(s) + "</span>", n("written"), n("failed"),
                        n("planned")},
                       {false, true, true, true});
    }
    std::vector<Bar> kinds;
    const std::map<std::string, std::string> kind_name{{"n", "points (n)"}, {"w", "lines (w)"}, {"a", "areas (a)"}};
    for (const auto& [k, n] : r.pairs_by_kind) kinds.push_back({kind_name.count(k) ? kind_name.at(k) : k, double(n), "#6c8893", ""});
    h += "</table>";
    // Coverage is a hint: jobs passed on from a source with no imagery for their tile.
    if (!r.fallbacks.empty() || r.every_source_said_no) {
        h += "<h3>Fallbacks</h3><p class=\"muted\">A source with no imagery for a job's tile passes the job on to its next eligible "
             "source. " + thousands(r.every_source_said_no) + " jobs had no imagery at any eligible source.</p>"
             "<table id=\"fallbacks-table\"><tr><th>from</th><th>to</th><th>jobs</th></tr>";
        for (const auto& [from_to, n] : r.fallbacks)
            h += table_row({html_escape(from_to.first), html_escape(from_to.second), thousands(n)}, {false, false, true});
        h += "</table>";
    }
    h += "<h3>Pairs by kind of object</h3>" + bar_chart_svg("chart-kind", kinds) + "</div></div></section>";

    // Gallery.
    std::set<std::string> gallery_sources, gallery_tags;
    for (const auto& im : r.gallery) gallery_sources.insert(im.source), gallery_tags.insert(im.focus_tag);
    h += "<section id=\"gallery-section\"><h2>Gallery</h2><p class=\"muted\">A sample of " + thousands(static_cast<std::int64_t>(r.gallery.size())) +
         " images drawn with the build's seed (" + std::to_string(r.seed) + "): the same images on every report of this build.</p>";
    h += "<div class=\"filters\"><label>Source <select id=\"filter-source\"><option value=\"\">all</option>";
    // Each option's value as an attribute: an option's text is given collapsed (a tag's run of spaces), which no card's tag equals.
    for (const auto& s : gallery_sources) h += "<option value=\"" + html_escape(s) + "\">" + html_escape(s) + "</option>";
    h += "</select></label><label>Tag <select id=\"filter-tag\"><option value=\"\">all</option>";
    for (const auto& t : gallery_tags) h += "<option value=\"" + html_escape(t) + "\">" + html_escape(t) + "</option>";
    // An image whose recorded file name is none the build makes (a state DB edited by hand) has
    // no path: no card, rather than a link and an image to "".
    const auto shown = std::count_if(r.gallery.begin(), r.gallery.end(), [](const ReportImage& im) { return !im.path.empty(); });
    h += "</select></label><span class=\"muted\"><span id=\"gallery-shown\">" + std::to_string(shown) + "</span> shown</span></div>";
    h += "<div id=\"gallery\" data-images=\"" + std::to_string(shown) + "\">";
    for (const auto& im : r.gallery) {
        if (im.path.empty()) continue;
        const auto c = colours.count(im.source) ? colours.at(im.source) : "#2b7bba";
        h += "<div class=\"card\" data-source=\"" + html_escape(im.source) + "\" data-tag=\"" + html_escape(im.focus_tag) + "\"><a href=\"" +
             html_escape(im.path) + "\"><img src=\"" + html_escape(im.path) + "\" alt=\"" + html_escape(im.title) + "\">" + outline_svg(im) +
             "</a><div class=\"txt\"><div class=\"t1\">" +
             html_escape(im.title) + "</div><div class=\"t2\">" + html_escape(im.title_multi_objects) + "</div>" +
             (im.title_polished.empty() ? std::string() : "<div class=\"t3\">" + html_escape(im.title_polished) + "</div>") + "<div class=\"stem\"><code>" +
             html_escape(im.stem) + "</code></div><div class=\"meta\"><span class=\"pill\" style=\"background:" + c + "\">" + html_escape(im.source) +
             "</span><span>" + html_escape(im.focus_tag) + " · " + gsd_label(im.gsd) + (im.year ? " · " + std::to_string(im.year) : "") +
             "</span></div></div></div>";
    }
    h += "</div></section>";

    // What the build did not get.
    std::vector<Bar> failure_bars;
    for (const auto& f : r.failures) failure_bars.push_back({f.reason, double(f.jobs), "#e05a4f", ""});
    if (failure_bars.size() > 10) failure_bars.resize(10);
    h += "<section id=\"failures\"><h2>What the build did not get</h2><div class=\"grid2\"><div><h3>Sampled objects skipped by the plan (" +
         thousands(r.skipped_total) + ")</h3>" + bar_chart_svg("chart-skipped", bars_of(r.skipped, 12)) + "</div><div><h3>Failed jobs (" + thousands(r.failed) +
         ")</h3>" + bar_chart_svg("chart-failures", failure_bars) + "</div></div>";
    h += "<h3>Failure reasons, most common first</h3><p class=\"muted\">Reasons are grouped with every URL shown as URL and every decimal number as N; "
         "the example is one job with its own message.</p><table id=\"failures-table\"><tr><th>reason</th><th>jobs</th><th>example</th></tr>";
    for (const auto& f : r.failures)
        h += table_row({html_escape(f.reason), thousands(f.jobs), "<code>" + html_escape(f.example) + "</code><div class=\"muted\">" + html_escape(f.example_reason) + "</div>"},
                       {false, true, false});
    if (r.failures.empty()) h += "<tr><td colspan=\"3\" class=\"muted\">no job failed</td></tr>";
    if (r.failure_reasons_total > static_cast<std::int64_t>(r.failures.size()))
        h += "<tr><td colspan=\"3\" class=\"muted\">… and " + thousands(r.failure_reasons_total - static_cast<std::int64_t>(r.failures.size())) +
             " other reasons (report.json)</td></tr>";
    h += "</table></section>";

    // Stages.
    h += "<section id=\"stages\"><h2>Stages</h2><table><tr><th>stage</th><th>finished</th><th>seconds</th><th>items</th><th>rate</th><th>summary</th></tr>";
    for (const auto& s : r.stages)
        h += table_row({s.stage, html_escape(s.finished_at), fixed(s.seconds, 2), s.unit.empty() ? "" : thousands(s.items) + " " + s.unit,
                        s.unit.empty() ? "" : fixed(s.rate, 1) + " " + s.unit + "/s", "<code>" + html_escape(s.summary_json) + "</code>"},
                       {false, false, true, true, true, false});
    h += "</table></section>";

    // Polished captions: what the language model was asked and what the check kept (issue 23).
    for (const auto& s : r.stages) {
        if (s.stage != "polish") continue;
        const auto p = imagery::parse_json_within_depth(s.summary_json.empty() ? "{}" : s.summary_json);
        if (!p.is_object()) break;
        const auto count = [&](const char* key) { return p.contains(key) && p[key].is_number() ? thousands(p[key].get<std::int64_t>()) : std::string("-"); };
        const auto text = [&](const char* key) { return p.contains(key) && p[key].is_string() ? html_escape(p[key].get<std::string>()) : std::string(); };
        h += "<section id=\"polish\"><h2>Polished captions</h2><p>Model <code>" + text("model") + "</code>, prompt <code>" + text("prompt") +
             "</code>: one request per distinct input, answers checked against the tags (docs/captions.md).</p><table>";
        for (const auto& [label, key] : std::initializer_list<std::pair<const char*, const char*>>{
                 {"images", "images"}, {"distinct inputs", "distinct_inputs"}, {"kept", "kept"}, {"rejected (natural caption kept)", "rejected"},
                 {"failed (no answer yet)", "failed"}, {"answered from the cache", "cache_hits"}, {"of them from --reuse", "reused"},
                 {"requests made", "requests"}, {"HTTP retries", "http_retries"}, {"tokens in", "tokens_in"}, {"tokens out", "tokens_out"}})
            h += table_row({label, count(key)}, {false, true});
        h += "</table></section>";
    }

    // A polish owed has no stage record (only a finished stage has one): said here, or the report
    // would describe a polish that ended with failed requests as no polish at all.
    if (r.polish_owed)
        h += "<section id=\"polish-owed\"><h2>Polished captions: not finished</h2><p>The build was asked for polished captions and the polish "
             "stage has not finished: " +
             (r.polish_failed_jobs > 0 ? thousands(r.polish_failed_jobs) + " images have a caption whose request failed, and images " : std::string("images ")) +
             "it has not reached have no polished caption yet, or one an earlier run made. <code>skyscript-build polish OUT</code> " +
             (r.polish_failed_jobs > 0 ? "asks again" : "polishes them") + ".</p></section>";

    // Pairs the state DB claims whose images are gone from OUT (red-team round 42).
    if (r.files.images < r.pairs)
        h += "<section id=\"images-missing\"><h2>Images missing</h2><p>" + thousands(r.pairs - r.files.images) + " of the " + thousands(r.pairs) +
             " pairs have no image in the output folder (" + thousands(r.files.images) +
             " images on disk). Running the build again fetches them again.</p></section>";

    // Files, options, versions.
    h += "<section id=\"build\"><h2>The build</h2><div class=\"grid2\"><div><h3>Files in the output folder</h3><table>";
    h += table_row({"images (imagesK/*.jpg)", thousands(r.files.images)}, {false, true});
    h += table_row({"image bytes", thousands(r.files.image_bytes)}, {false, true});
    h += table_row({"meta (metaK/*.pickle)", thousands(r.files.meta)}, {false, true});
    for (const auto& [name, rows] : r.files.csv_rows) h += table_row({"rows in " + html_escape(name), thousands(rows)}, {false, true});
    h += table_row({"lines in meta.jsonl", thousands(r.files.jsonl_lines)}, {false, true});
    h += "</table><h3>Tool and input</h3><table>";
    for (const auto& [k, v] : r.tool) h += table_row({html_escape(k), "<code>" + html_escape(v) + "</code>"});
    h += "</table></div><div><h3>Options used</h3><table>";
    for (const auto& [k, v] : r.options) h += table_row({"--" + html_escape(k), "<code>" + html_escape(v) + "</code>"});
    h += "</table>";
    if (!r.catalog.empty()) {
        h += "<details><summary>catalog.gpkg metadata</summary><table>";
        for (const auto& [k, v] : r.catalog) h += table_row({html_escape(k), "<code>" + html_escape(v) + "</code>"});
        h += "</table></details>";
    }
    h += "</div></div></section></main><footer>report.json holds every number on this page.</footer>";
    h += "<script>" + std::string(script) + "</script></body></html>\n";
    return h;
}

} // namespace skyscript::pipeline
