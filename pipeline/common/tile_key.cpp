#include "pipeline/common/tile_key.hpp"

#include "imagery/source_kind.hpp"

#include <charconv>

namespace skyscript::pipeline {

namespace {

// std::to_chars with a precision writes what printf's %.*g / %.*f write in the "C" locale
// (the keys of finished builds were made with snprintf: the same text), without parsing a
// format string a job (snprintf was 1.7% of the plan).
void append(std::string& out, double v, std::chars_format format, int precision) {
    char buf[400]; // the largest double in fixed notation with 3 decimals: 314 characters
    const auto r = std::to_chars(buf, buf + sizeof buf, v, format, precision);
    out.append(buf, r.ptr);
}

void append(std::string& out, int v) {
    char buf[16];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

} // namespace

std::string make_tile_key(std::string_view source_part, const imagery::TileGrid& g, int jpeg_quality) {
    std::string key;
    key.reserve(source_part.size() + 64);
    key.append(source_part);
    key += "|grid=";
    append(key, g.epsg);
    key += ',';
    append(key, g.width);
    key += 'x';
    append(key, g.height);
    key += ',';
    append(key, g.gsd, std::chars_format::general, 9);
    key += ',';
    append(key, g.geotransform[0], std::chars_format::fixed, 3);
    key += ',';
    append(key, g.geotransform[3], std::chars_format::fixed, 3);
    key += "|q=";
    append(key, jpeg_quality);
    return key;
}

std::string make_tile_key(const imagery::SourceConfig& s, const imagery::TileGrid& g, int jpeg_quality) {
    return make_tile_key(s.kind->tile_key_part(s), g, jpeg_quality);
}

} // namespace skyscript::pipeline
