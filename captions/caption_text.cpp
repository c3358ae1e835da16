#include "captions/caption_text.hpp"


namespace skyscript::captions {

namespace {

// Length of the valid UTF-8 sequence at s[i] and its code point; 0 if invalid.
std::size_t decode_utf8(std::string_view s, std::size_t i, unsigned& cp) {
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

} // namespace

std::size_t append_caption_text(std::string& out, std::string_view in, TextPart part, std::size_t max_bytes) {
    const std::size_t start = out.size();
    bool pending_space = false;
    for (std::size_t i = 0; i < in.size();) {
        unsigned cp = 0;
        std::size_t n = decode_utf8(in, i, cp);
        std::string_view piece = n ? in.substr(i, n) : std::string_view{"\xEF\xBF\xBD"};
        i += n ? n : 1;
        bool space = false;
        if (n == 1) {
            if (cp < 0x20 || cp == 0x7F || cp == ' ' || cp == '_' || (part == TextPart::key && cp == ':')) space = true;
            else if (part == TextPart::value && cp == ';') piece = "/";
        } else if (cp == 0x85 || cp == 0xA0 || cp == 0x2028 || cp == 0x2029 || (cp >= 0x80 && cp < 0xA0)) {
            space = true; // NEL, no-break space, line/paragraph separators, C1 controls
        }
        if (space) {
            pending_space = out.size() > start;
            continue;
        }
        const std::size_t need = piece.size() + (pending_space ? 1 : 0);
        if (out.size() - start + need > max_bytes) {
            out += "...";
            return out.size() - start;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.append(piece);
    }
    return out.size() - start;
}

} // namespace skyscript::captions
