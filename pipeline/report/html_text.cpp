#include "pipeline/report/html_text.hpp"

#include "tag_filters/utf8_text.hpp"

#include <cstdio>

namespace skyscript::pipeline {

std::string html_escape(std::string_view raw) {
    // Invalid UTF-8 (from an older catalog, a reason quoting raw bytes) becomes U+FFFD: the
    // page declares UTF-8 and stays valid whatever it quotes.
    const std::string text = tags::valid_utf8(raw);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        // Control characters (an ESC from an OSM value) are parse errors in HTML and reach
        // whoever saves or greps the page: U+FFFD in their place. C1 controls are C2 80..9F.
        const bool c1 = u == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F || c1) {
            out += "\xEF\xBF\xBD";
            i += c1;
            continue;
        }
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string thousands(std::int64_t n) {
    const std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

} // namespace skyscript::pipeline
