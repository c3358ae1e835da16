#include "imagery/source_table.hpp"


#include <algorithm>
#include <cmath>

namespace skyscript::imagery {

std::string SourceTable::string(const char* key, bool required) const {
    const auto* n = get(key);
    if (n && !n->is_string()) fail_at(*n, std::string("`") + key + "` must be a string");
    const auto v = n ? n->value<std::string>() : std::nullopt;
    if (required && (!v || v->empty())) fail(std::string("needs `") + key + "`");
    // A NUL cut the path GDAL opened short (`a.tif\u0000.evil` opened a.tif, said nowhere); a
    // line break split the table `sources` prints and the one-line errors naming it. An inline
    // XML description (`<GDAL_WMS>...`) may run over lines.
    const bool xml = v && v->find_first_not_of(" \t\r\n") != std::string::npos && (*v)[v->find_first_not_of(" \t\r\n")] == '<';
    const auto control = [xml](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 || u == 0x7f) && !(xml && (c == '\n' || c == '\r' || c == '\t'));
    };
    // Free text (a licence, an attribution) is made one line where it is written (the card, the meta).
    const bool text = std::string_view(key) == "licence" || std::string_view(key) == "attribution";
    if (v && !text && std::any_of(v->begin(), v->end(), control)) fail_at(*n, std::string("`") + key + "` holds a control character (a NUL, a line break, ...)");
    return v.value_or("");
}

std::optional<double> SourceTable::number(const char* key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_number() || !std::isfinite(*n->value<double>())) fail_at(*n, std::string("`") + key + "` must be a number");
    return n->value<double>();
}

std::optional<std::int64_t> SourceTable::integer(const char* key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail_at(*n, std::string("`") + key + "` must be a whole number");
    return n->value<std::int64_t>();
}

std::optional<bool> SourceTable::boolean(const char* key) const {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail_at(*n, std::string("`") + key + "` must be true or false");
    return n->value<bool>();
}

const toml::array* SourceTable::array(const char* key, const char* shape) const {
    const auto* n = get(key);
    if (n && !n->is_array()) fail_at(*n, std::string("`") + key + "` must be an array " + shape);
    return n ? n->as_array() : nullptr;
}

void SourceTable::fail(const std::string& what) const {
    throw SourceConfigError(origin_ + ":" + std::to_string(line_) + ": " + label_ + ": " + what);
}

void SourceTable::fail_line(const toml::source_region& region, const std::string& what) const {
    throw SourceConfigError(origin_ + ":" + std::to_string(region.begin.line) + ": " + label_ + ": " + what);
}

} // namespace skyscript::imagery
