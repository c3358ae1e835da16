#include "pipeline/report/focus_outline.hpp"

#include "pipeline/common/pixel_number.hpp"
#include "imagery/json_depth.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace skyscript::pipeline {

namespace {

using json = nlohmann::json;

bool is_xy(const json& p) { return p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number(); }

// "M x y L x y ..." (with Z when closed) for a list of [x, y].
void append_run(std::string& out, const json& points, bool closed) {
    std::size_t n = 0;
    for (const auto& p : points) {
        if (!is_xy(p)) continue;
        out += n++ ? " L " : (out.empty() ? "M " : " M ");
        append_pixel_number(out, p[0].get<double>());
        out += ' ';
        append_pixel_number(out, p[1].get<double>());
    }
    if (closed && n) out += " Z";
}

} // namespace

FocusOutline focus_outline(std::string_view objects_json, int image_size) try {
    FocusOutline out;
    const auto objects = imagery::parse_json_within_depth<json>(objects_json);
    if (!objects.is_array() || objects.empty() || !objects[0].is_object()) return out;
    const auto& focus = objects[0];
    const auto g = focus.find("geometry_px");
    if (focus.value("role", "") != "focus" || g == focus.end() || !g->is_array() || g->empty()) return out;
    if (is_xy(*g)) { // a point: a ring a twentieth of the image across around it
        const double r = std::max(3.0, image_size / 40.0), x = (*g)[0].get<double>(), y = (*g)[1].get<double>();
        out.path = "M ";
        append_pixel_number(out.path, x - r);
        out.path += ' ';
        append_pixel_number(out.path, y);
        for (double dx : {2 * r, -2 * r}) {
            out.path += " a ";
            append_pixel_number(out.path, r);
            out.path += ' ';
            append_pixel_number(out.path, r);
            out.path += " 0 1 0 ";
            append_pixel_number(out.path, dx);
            out.path += " 0";
        }
        out.kind = 'n';
        return out;
    }
    for (const auto& item : *g) {
        if (!item.is_array() || item.empty()) continue;
        if (is_xy(item[0])) { // a line part
            append_run(out.path, item, false);
            out.kind = 'w';
        } else { // an area's polygon: its rings
            for (const auto& ring : item)
                if (ring.is_array()) append_run(out.path, ring, true);
            out.kind = 'a';
        }
    }
    if (out.path.empty()) out.kind = 0;
    return out;
} catch (const json::exception&) { // a state DB edited by hand: a key of the wrong type
    return {};
}

} // namespace skyscript::pipeline
