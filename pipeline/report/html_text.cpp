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
        // Control characters (an ESC from an OSM value) raw in the page reach whoever saves
        // or greps it, and the parser turns a CR and a CR LF alike into LF: each C0 control
        // (a CR too) and DEL as its character reference, so that two tags differing only in
        // them stay two (the gallery's filter matched both). C1 controls (C2 80..9F), whose
        // references the parser reads as windows-1252, become U+FFFD.
        const bool c1 = u == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        if (c1) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7F) {
            out += "&#" + std::to_string(u) + ";";
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
