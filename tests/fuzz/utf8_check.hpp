#pragma once
// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), the
// yardstick of the fuzz targets' text invariants; written apart from the code under test.

#include <string>
#include <string_view>

namespace skyscript::fuzz {

inline bool is_strict_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
        else return false;
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

// `s` as Python's bytes.decode("utf-8", "replace") then encode would give it: each maximal
// subpart of an ill-formed sequence (Unicode 15, section 3.9) becomes one U+FFFD.
inline std::string python_utf8_replace(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t n = 1; // longest well-formed prefix of a sequence starting at i
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t want = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        while (want > 1 && n < want && i + n < s.size()) {
            const auto cc = static_cast<unsigned char>(s[i + n]);
            unsigned lo = 0x80, hi = 0xBF;
            if (n == 1) {
                if (c == 0xE0) lo = 0xA0;
                if (c == 0xED) hi = 0x9F;
                if (c == 0xF0) lo = 0x90;
                if (c == 0xF4) hi = 0x8F;
            }
            if (cc < lo || cc > hi) break;
            ++n;
        }
        if (want != 0 && n == want) out.append(s.substr(i, n));
        else out += "\xEF\xBF\xBD";
        i += n;
    }
    return out;
}

} // namespace skyscript::fuzz
