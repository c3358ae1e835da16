#include "imagery/one_line_text.hpp"

#include <cstdio>

namespace skyscript::imagery {

std::string one_line_text(std::string_view text, std::size_t max_bytes) {
    std::string out;
    std::size_t i = 0;
    for (; i < text.size() && i < max_bytes; ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        // A C1 control is 0xC2 0x80..0x9F in UTF-8; the line and paragraph separators U+2028,
        // U+2029 (E2 80 A8/A9) break a line for Python's splitlines() and JavaScript.
        const bool c1 = u == 0xC2 && i + 1 < text.size() && i + 1 < max_bytes && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        const bool separator = u == 0xE2 && i + 2 < text.size() && i + 2 < max_bytes && text[i + 1] == '\x80' &&
                               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9');
        if (separator) {
            out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
            i += 2;
        } else if (u >= 0x20 && u != 0x7F && !c1) {
            out += static_cast<char>(u);
        } else if (u == '\n') {
            out += "\\n";
        } else {
            const auto shown = c1 ? static_cast<unsigned char>(text[++i]) : u;
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", shown);
            out += buf;
        }
    }
    if (i < text.size()) {
        // A cut inside a UTF-8 sequence leaves its first bytes: drop them.
        std::size_t lead = out.size();
        while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
        if (lead > 0) {
            const auto b = static_cast<unsigned char>(out[lead - 1]);
            const std::size_t length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (out.size() - (lead - 1) < length) out.resize(lead - 1);
        }
        out += " [...]";
    }
    return out;
}

} // namespace skyscript::imagery
