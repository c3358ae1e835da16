#include "imagery/source_key_text.hpp"

#include "imagery/url_redaction.hpp"

#include <cstdio>
#include <sstream>

namespace skyscript::imagery {

std::string source_tile_key_text(std::string_view kind, const SourceConfig& s, const SourceKeyFields& f) {
    std::string key(kind);
    key += '|';
    // Keys are stored (state DB, --reuse): a secret in the URL or path (a token, a
    // signature) stays out of them. It does not define the pixels anyway.
    key += redact_url(!f.path.empty() ? f.path : !f.url.empty() ? f.url : f.collection);
    // A local raster's size and time: --reuse must not take pixels of a file since replaced.
    if (!f.file_stamp.empty()) key += "|file=" + f.file_stamp;
    key += "|bands=";
    for (const auto& b : s.bands) key += b + ",";
    char buf[128];
    if (s.stretch) {
        std::snprintf(buf, sizeof buf, "|stretch=%.9g,%.9g", s.stretch->first, s.stretch->second);
        key += buf;
    }
    key += "|dates=" + s.date_start + "," + s.date_end + "|cloud=" + f.cloud_property;
    std::snprintf(buf, sizeof buf, "|tile=%d,%d,%d", f.tile_px, f.max_zoom, f.tms ? 1 : 0);
    return key + buf;
}

std::string source_identity_text(std::string_view kind, const SourceConfig& s, const SourceKeyFields& f) {
    std::ostringstream o;
    o.precision(17);
    // Tokens in a URL change without changing pixels (and their digest is kept out of OUT).
    o << kind << '\n' << redact_url(f.path) << '\n' << redact_url(f.url) << '\n' << f.collection << '\n' << f.cloud_property << '\n';
    o << s.gsd << '\n' << s.year.value_or(0) << '\n' << s.date_start << ',' << s.date_end << '\n';
    if (s.coverage_given) o << s.coverage.west << ',' << s.coverage.south << ',' << s.coverage.east << ',' << s.coverage.north;
    // A polygon decides the plan as much as its box: every vertex, through its digest.
    if (s.coverage_shape) o << ",polygon=" << s.coverage_shape->digest();
    o << '\n';
    for (const auto& b : s.bands) o << b << ',';
    o << '\n';
    if (s.stretch) o << s.stretch->first << ',' << s.stretch->second;
    o << '\n' << f.tms << ',' << f.tile_px << ',' << f.max_zoom;
    return o.str();
}

} // namespace skyscript::imagery
