#include "pipeline/report/svg_chart.hpp"

#include "pipeline/report/html_text.hpp"
#include "tag_filters/utf8_text.hpp"

#include <algorithm>
#include <cmath>

namespace skyscript::pipeline {

namespace {

constexpr double width = 600;
const char* const palette[] = {"#2b7bba", "#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4", "#525df4", "#bf399e", "#6c8893", "#ee6868"};

std::string num(double v) { return fixed(v, 1); }

// 1, 2, 5, 10, ... labels read as people count.
std::string short_count(std::int64_t n) {
    if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
    if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "K";
    return thousands(n);
}

} // namespace

std::map<std::string, std::string> source_colours(const std::vector<std::string>& sources) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < sources.size(); ++i) out[sources[i]] = palette[i % std::size(palette)];
    return out;
}

std::string bar_chart_svg(const std::string& id, const std::vector<Bar>& bars) {
    const double label_w = 230, bar_x = label_w + 8, bar_w = width - bar_x - 70, row = 24;
    const double height = std::max(1.0, double(bars.size())) * row + 8;
    double most = 0;
    for (const auto& b : bars) most = std::max(most, b.value);
    std::string s = "<svg id=\"" + html_escape(id) + "\" class=\"chart\" viewBox=\"0 0 " + num(width) + " " + num(height) +
                    "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
    if (bars.empty()) s += "<text x=\"8\" y=\"20\" class=\"muted\">none</text>";
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const auto& b = bars[i];
        const double y = 4 + double(i) * row;
        const double w = most > 0 ? std::max(1.0, bar_w * b.value / most) : 1.0;
        // Cut between code points: a cut inside one leaves invalid UTF-8 in the page.
        std::string label = b.label.size() > 34 ? std::string(tags::utf8_prefix(b.label, 32)) + "…" : b.label;
        s += "<g><title>" + html_escape(b.label) + ": " + html_escape(b.value_text.empty() ? thousands(std::llround(b.value)) : b.value_text) + "</title>";
        s += "<text x=\"" + num(label_w) + "\" y=\"" + num(y + row * 0.62) + "\" text-anchor=\"end\" class=\"label\">" + html_escape(label) + "</text>";
        s += "<rect x=\"" + num(bar_x) + "\" y=\"" + num(y + 3) + "\" width=\"" + num(w) + "\" height=\"" + num(row - 8) + "\" rx=\"3\" fill=\"" +
             (b.colour.empty() ? std::string(palette[0]) : b.colour) + "\"/>";
        s += "<text x=\"" + num(bar_x + w + 6) + "\" y=\"" + num(y + row * 0.62) + "\" class=\"value\">" +
             html_escape(b.value_text.empty() ? thousands(std::llround(b.value)) : b.value_text) + "</text></g>";
    }
    return s + "</svg>";
}

std::string tag_curve_svg(const std::string& id, const std::vector<TagCurvePoint>& curve) {
    const double height = 300, left = 56, right = 20, top = 16, bottom = 44;
    const double pw = width - left - right, ph = height - top - bottom;
    std::int64_t max_tags = 1, max_x = 1000;
    for (const auto& p : curve) max_tags = std::max(max_tags, p.tags), max_x = std::max(max_x, p.min_images);
    // Round y ticks: a step of 1, 2 or 5 x 10^k, about four of them.
    std::int64_t y_step = 1;
    for (std::int64_t p10 = 1; y_step * 4 < max_tags; p10 *= 10)
        for (std::int64_t m : {1, 2, 5})
            if (y_step * 4 < max_tags) y_step = m * p10;
    const std::int64_t y_ticks = (max_tags + y_step - 1) / y_step;
    max_tags = y_ticks * y_step;
    const double lx_max = std::log10(double(max_x));
    auto X = [&](double n) { return left + pw * std::log10(std::max(1.0, n)) / lx_max; };
    auto Y = [&](double tags) { return top + ph * (1 - tags / double(max_tags)); };
    std::string s = "<svg id=\"" + html_escape(id) + "\" class=\"chart\" viewBox=\"0 0 " + num(width) + " " + num(height) +
                    "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
    // Axes and grid.
    s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) + "\" class=\"frame\"/>";
    for (std::int64_t x = 1; x <= max_x; x *= 10) {
        s += "<line x1=\"" + num(X(double(x))) + "\" x2=\"" + num(X(double(x))) + "\" y1=\"" + num(top) + "\" y2=\"" + num(top + ph) + "\" class=\"grid\"/>";
        s += "<text x=\"" + num(X(double(x))) + "\" y=\"" + num(top + ph + 16) + "\" text-anchor=\"middle\" class=\"tick\">" + short_count(x) + "</text>";
    }
    for (std::int64_t i = 0; i <= y_ticks; ++i) {
        const double t = double(i * y_step);
        s += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(Y(t)) + "\" y2=\"" + num(Y(t)) + "\" class=\"grid\"/>";
        s += "<text x=\"" + num(left - 6) + "\" y=\"" + num(Y(t) + 4) + "\" text-anchor=\"end\" class=\"tick\">" + thousands(std::llround(t)) + "</text>";
    }
    s += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(height - 6) + "\" text-anchor=\"middle\" class=\"axis\">images per focus tag, at least (log scale)</text>";
    s += "<text transform=\"translate(14 " + num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\" class=\"axis\">focus tags</text>";
    // The curve as a step line (the count only changes at thresholds).
    if (!curve.empty()) {
        std::string d = "M" + num(X(double(curve.front().min_images))) + "," + num(Y(double(curve.front().tags)));
        for (std::size_t i = 1; i < curve.size(); ++i)
            d += " L" + num(X(double(curve[i].min_images))) + "," + num(Y(double(curve[i].tags)));
        s += "<path d=\"" + d + " L" + num(X(double(curve.back().min_images))) + "," + num(top + ph) + " L" + num(X(1)) + "," + num(top + ph) +
             " Z\" class=\"area\"/>";
        s += "<path d=\"" + d + "\" class=\"curve\"/>";
        for (const auto& p : curve)
            s += "<circle cx=\"" + num(X(double(p.min_images))) + "\" cy=\"" + num(Y(double(p.tags))) + "\" r=\"3\" class=\"dot\"><title>" +
                 thousands(p.tags) + " tags with at least " + thousands(p.min_images) + " images</title></circle>";
    }
    // The two thresholds the paper quotes.
    for (std::int64_t mark : {100, 1000}) {
        std::int64_t tags = 0;
        for (const auto& p : curve)
            if (p.min_images == mark) tags = p.tags;
        const double x = X(double(mark));
        s += "<line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(top) + "\" y2=\"" + num(top + ph) + "\" class=\"mark\"/>";
        const bool near_right = x > left + pw * 0.8;
        s += "<text x=\"" + num(near_right ? x - 4 : x + 4) + "\" y=\"" + num(top + 14 + (mark == 1000 ? 16 : 0)) + "\" text-anchor=\"" +
             (near_right ? "end" : "start") + "\" class=\"marklabel\">" + thousands(tags) +
             " tags ≥ " + short_count(mark) + "</text>";
    }
    return s + "</svg>";
}

std::string box_map_svg(const std::string& id, const std::vector<ReportImage>& boxes, const std::vector<ReportImage>& failed,
                        const std::map<std::string, std::string>& colours) {
    double w = 180, s_ = 90, e = -180, n = -90;
    for (const auto* list : {&boxes, &failed})
        for (const auto& b : *list) w = std::min(w, b.west), s_ = std::min(s_, b.south), e = std::max(e, b.east), n = std::max(n, b.north);
    if (boxes.empty() && failed.empty()) w = -180, s_ = -90, e = 180, n = 90;
    // Pad by 5% and keep a minimum extent, so one box is not the whole frame.
    const double pad_x = std::max((e - w) * 0.05, 0.001), pad_y = std::max((n - s_) * 0.05, 0.001);
    w = std::max(-180.0, w - pad_x), e = std::min(180.0, e + pad_x), s_ = std::max(-90.0, s_ - pad_y), n = std::min(90.0, n + pad_y);
    const double mid = (s_ + n) / 2 * M_PI / 180;
    const double aspect = (n - s_) / std::max(1e-9, (e - w) * std::cos(mid)); // equirectangular at the middle latitude
    const double left = 50, top = 10, pw = width - left - 10;
    const double ph = std::clamp(pw * aspect, 160.0, 520.0);
    const double height = top + ph + 30;
    auto X = [&](double lon) { return left + pw * (lon - w) / (e - w); };
    auto Y = [&](double lat) { return top + ph * (n - lat) / (n - s_); };
    // Many boxes overlap: the more there are, the fainter each one, so density still shows.
    const double n_boxes = double(std::max<std::size_t>(1, boxes.size()));
    const double fill = std::clamp(0.35 * std::sqrt(150.0 / n_boxes), 0.05, 0.35), stroke = n_boxes > 600 ? 0.0 : 0.9;
    std::string s = "<svg id=\"" + html_escape(id) + "\" class=\"chart map\" viewBox=\"0 0 " + num(width) + " " + num(height) +
                    "\" style=\"--box-fill:" + fixed(fill, 3) + ";--box-stroke:" + fixed(stroke, 2) + "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
    s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) + "\" class=\"sea\"/>";
    // Graticule: a round step giving 3 to 8 lines.
    double step = 30;
    for (double c : {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0})
        if (std::max(e - w, n - s_) / c <= 8) { step = c; break; }
    const int decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : step >= 0.001 ? 3 : 4;
    for (double lon = std::ceil(w / step) * step; lon <= e; lon += step) {
        s += "<line x1=\"" + num(X(lon)) + "\" x2=\"" + num(X(lon)) + "\" y1=\"" + num(top) + "\" y2=\"" + num(top + ph) + "\" class=\"grid\"/>";
        s += "<text x=\"" + num(X(lon)) + "\" y=\"" + num(top + ph + 16) + "\" text-anchor=\"middle\" class=\"tick\">" + fixed(lon, decimals) + "°</text>";
    }
    for (double lat = std::ceil(s_ / step) * step; lat <= n; lat += step) {
        s += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(Y(lat)) + "\" y2=\"" + num(Y(lat)) + "\" class=\"grid\"/>";
        s += "<text x=\"" + num(left - 4) + "\" y=\"" + num(Y(lat) + 4) + "\" text-anchor=\"end\" class=\"tick\">" + fixed(lat, decimals) + "°</text>";
    }
    auto rect = [&](const ReportImage& b, const std::string& attributes, const std::string& title) {
        const double x0 = X(b.west), x1 = X(b.east), y0 = Y(b.north), y1 = Y(b.south);
        const double bw = std::max(2.0, x1 - x0), bh = std::max(2.0, y1 - y0);
        s += "<rect x=\"" + num((x0 + x1 - bw) / 2) + "\" y=\"" + num((y0 + y1 - bh) / 2) + "\" width=\"" + num(bw) + "\" height=\"" + num(bh) +
             "\" " + attributes + "><title>" + html_escape(title) + "</title></rect>";
    };
    for (const auto& b : failed) rect(b, "class=\"failedbox\"", "failed: " + b.stem + " " + b.focus_tag + " (" + b.source + ")");
    for (const auto& b : boxes) {
        const auto c = colours.count(b.source) ? colours.at(b.source) : std::string(palette[0]);
        rect(b, "fill=\"" + c + "\" stroke=\"" + c + "\" class=\"box\"", b.stem + " " + b.focus_tag);
    }
    return s + "</svg>";
}

} // namespace skyscript::pipeline
