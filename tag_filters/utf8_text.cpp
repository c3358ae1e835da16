#include "tag_filters/utf8_text.hpp"

#include <algorithm>

namespace skyscript::tags {

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    unsigned cp = 0;
    return decode_utf8(s, i, cp);
}

std::size_t decode_utf8(std::string_view s, std::size_t i, unsigned& cp) noexcept {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    unsigned min;
    if (c < 0x80) return cp = c, 1;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
    else return 0;
    if (i + n > s.size()) return 0;
    cp = c & (0x7Fu >> n);
    for (std::size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { // the common case, no call
            ++i;
            continue;
        }
        const auto n = utf8_sequence_length(s, i);
        if (!n) return false;
        i += n;
    }
    return true;
}

void append_valid_utf8(std::string& out, std::string_view s) {
    if (is_valid_utf8(s)) {
        out.append(s);
        return;
    }
    for (std::size_t i = 0; i < s.size();) {
        if (const auto n = utf8_sequence_length(s, i)) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
}

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    append_valid_utf8(out, s);
    return out;
}

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept {
    std::size_t end = 0;
    while (end < s.size()) {
        const auto n = std::max<std::size_t>(1, utf8_sequence_length(s, end));
        if (end + n > max_bytes) break;
        end += n;
    }
    return s.substr(0, end);
}

std::string one_line(std::string_view s, std::size_t max_bytes) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        unsigned cp = 0xFFFD;
        const auto n = decode_utf8(s, i, cp);
        const auto step = std::max<std::size_t>(1, n);
        if (i + step > max_bytes) break;
        if (n == 0) out += "\xEF\xBF\xBD";
        else if (breaks_one_line(cp)) out += ' ';
        else out.append(s, i, n);
        i += step;
    }
    return out;
}

std::string one_line_words(std::string_view s) {
    std::string out;
    bool space = false;
    for (std::size_t i = 0; i < s.size();) {
        unsigned cp = 0xFFFD;
        const auto n = decode_utf8(s, i, cp);
        const auto step = std::max<std::size_t>(1, n);
        if (n && (reorders_text(cp) || invisible_text(cp))) {
            i += step;
            continue;
        }
        if (n && (cp == ' ' || other_space(cp) || breaks_one_line(cp))) {
            space = !out.empty();
            i += step;
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        if (n == 0) out += "\xEF\xBF\xBD";
        else out.append(s, i, n);
        i += step;
    }
    return out;
}

std::string_view without_bom(std::string_view s) noexcept {
    return s.starts_with("\xEF\xBB\xBF") ? s.substr(3) : s;
}

} // namespace skyscript::tags
