#include "captions/caption_text.hpp"

#include "tag_filters/utf8_text.hpp"

namespace skyscript::captions {

std::size_t append_caption_text(std::string& out, std::string_view in, TextPart part, std::size_t max_bytes) {
    const std::size_t start = out.size();
    bool pending_space = false;
    for (std::size_t i = 0; i < in.size();) {
        unsigned cp = 0;
        std::size_t n = tags::decode_utf8(in, i, cp);
        std::string_view piece = n ? in.substr(i, n) : std::string_view{"\xEF\xBF\xBD"};
        i += n ? n : 1;
        bool space = false;
        if (n && (tags::reorders_text(cp) || tags::invisible_text(cp))) continue; // bidi embeddings, overrides, isolates; text no one sees
        if (n && tags::breaks_one_line(cp)) {
            space = true; // controls, NEL, line/paragraph separators
        } else if (n == 1) {
            if (cp == ' ' || cp == '_' || (part == TextPart::key && cp == ':')) space = true;
            else if (part == TextPart::value && cp == ';') piece = "/";
        } else if (cp == 0xA0) {
            space = true; // no-break space
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

bool value_reads_as(std::string_view value, std::string_view word) {
    if (value == word) return true;
    if (value.size() > word.size() + 24 || value.find(word) == std::string_view::npos) return false;
    std::string cleaned;
    append_caption_text(cleaned, value, TextPart::value, 64);
    return cleaned == word;
}

} // namespace skyscript::captions
