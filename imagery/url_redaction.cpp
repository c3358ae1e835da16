#include "url_redaction.hpp"

#include <array>
#include <cctype>

namespace skyscript::imagery {

namespace {

// A query parameter's name or value ends at these (a message may go on after a URL).
bool ends_value(char c) {
    return c == '&' || c == '#' || c == ';' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ')' || c == '`' ||
           std::isspace(static_cast<unsigned char>(c));
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

} // namespace

bool secret_parameter(std::string_view name) {
    std::string n; // lower case, without - and _: X-Amz-Signature -> xamzsignature
    for (char c : name)
        if (c != '-' && c != '_') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static constexpr std::array exact{"token", "key", "sig", "signature", "secret", "password", "passwd", "pwd", "credential", "auth"};
    for (std::string_view e : exact)
        if (n == e) return true;
    static constexpr std::array suffixes{"token", "key", "secret", "signature", "password", "credential"};
    for (std::string_view s : suffixes)
        if (n.size() > s.size() && n.ends_with(s)) return true;
    return false;
}

std::string redact_url(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // scheme://userinfo@host: the userinfo goes (it is a password or a token).
        if (text.compare(i, 3, "://") == 0) {
            out += "://";
            i += 3;
            std::size_t end = i;
            while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' && !ends_value(text[end])) ++end;
            const auto at = text.substr(i, end - i).rfind('@');
            if (at != std::string_view::npos) {
                out += redacted;
                i += at; // continue at the '@'
            }
            continue;
        }
        // ?name=value, &name=value, ;name=value
        const char c = text[i];
        out += c;
        ++i;
        if (c != '?' && c != '&' && c != ';') continue;
        std::size_t name_end = i;
        while (name_end < text.size() && name_char(text[name_end])) ++name_end;
        if (name_end == i || name_end >= text.size() || text[name_end] != '=' || !secret_parameter(text.substr(i, name_end - i))) continue;
        out.append(text.substr(i, name_end + 1 - i));
        std::size_t value_end = name_end + 1;
        // A value ends where the URL does; a ':' with a space after it ends a message's URL
        // ("tile URL: HTTP 503"), as ':' is rare in a key and never followed by a space in a URL.
        while (value_end < text.size() && !ends_value(text[value_end]) &&
               !(text[value_end] == ':' && (value_end + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[value_end + 1])))))
            ++value_end;
        if (value_end > name_end + 1) out += redacted;
        i = value_end;
    }
    return out;
}

} // namespace skyscript::imagery
