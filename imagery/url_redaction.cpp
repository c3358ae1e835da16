#include "imagery/url_redaction.hpp"

#include "imagery/json_depth.hpp"

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

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// A parameter name's end from `i`: its characters, and percent-encoded ones (`access%5Ftoken` is
// access_token to a server) but for the separators and '=' (%26, %3F, %3D end it); `decoded`
// gets the name as the server reads it.
std::size_t name_end_from(std::string_view text, std::size_t i, std::string& decoded) {
    decoded.clear();
    while (i < text.size()) {
        if (name_char(text[i])) {
            decoded += text[i++];
        } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            const char c = static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            if (!name_char(c)) break;
            decoded += c;
            i += 3;
        } else {
            break;
        }
    }
    return i;
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(a[k])) != std::tolower(static_cast<unsigned char>(b[k]))) return false;
    return true;
}

// The length of a query separator at `i` (?, &, ;, the fragment's # where OAuth's implicit flow
// puts its token, or their percent-encodings), or 0.
std::size_t separator(std::string_view text, std::size_t i) {
    if (text[i] == '?' || text[i] == '&' || text[i] == ';' || text[i] == '#') return 1;
    const auto three = text.substr(i, 3);
    return ieq(three, "%3F") || ieq(three, "%26") ? 3 : 0;
}

// The length of the '=' (or %3D) at `i`, or 0.
std::size_t equals(std::string_view text, std::size_t i) {
    if (i < text.size() && text[i] == '=') return 1;
    return ieq(text.substr(i, 3), "%3D") ? 3 : 0;
}

} // namespace

bool secret_parameter(std::string_view name) {
    std::string n; // lower case, without - and _: X-Amz-Signature -> xamzsignature
    for (char c : name)
        if (c != '-' && c != '_') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // And the names of services that call their key otherwise: LINZ Basemaps `api`, Maxar's
    // `connectId`, OpenWeatherMap's `appid`, Tianditu's `tk`, Baidu's `ak`, Azure Functions'
    // `code`, and a bare `k`.
    static constexpr std::array exact{"token",     "key",  "sig",  "signature",     "secret",  "password",   "passwd",  "pwd",
                                      "pass",      "credential", "auth", "authorization", "appcode", "accesscode", "session", "sessionid",
                                      "jwt",       "api",  "appid", "connectid",    "tk",      "ak",        "code",    "k"};
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
        // "Bearer TOKEN": an Authorization header a server echoed in its message.
        if (ieq(text.substr(i, 6), "bearer") && (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1])))) {
            std::size_t start = i + 6;
            while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
            // A token: 8 or more of RFC 6750's token68 characters ("Bearer Creek", "bearer token" are words).
            std::size_t end = start;
            while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || std::string_view("-._~+/=").find(text[end]) != std::string_view::npos))
                ++end;
            if (start > i + 6 && end - start >= 8) {
                out.append(text.substr(i, start - i));
                out += redacted;
                i = end;
                continue;
            }
        }
        // ?name=value, &name=value, ;name=value, and percent-encoded (GDAL's /vsicurl?url=...).
        const std::size_t sep = separator(text, i);
        if (sep == 0) {
            out += text[i++];
            continue;
        }
        out.append(text.substr(i, sep));
        i += sep;
        std::string name;
        std::size_t name_end = name_end_from(text, i, name);
        std::size_t spaced = name_end; // `?Key = value`: spaces around the '=' (a hand-written URL's)
        while (spaced < text.size() && text[spaced] == ' ') ++spaced;
        const std::size_t eq = equals(text, spaced);
        if (name_end == i || eq == 0 || !secret_parameter(name)) continue;
        std::size_t value_end = spaced + eq;
        while (value_end < text.size() && text[value_end] == ' ') ++value_end;
        out.append(text.substr(i, value_end - i));
        const std::size_t value_start = value_end;
        // A value ends where the URL does; a ':' with a space after it ends a message's URL
        // ("tile URL: HTTP 503"), as ':' is rare in a key and never followed by a space in a URL.
        while (value_end < text.size() && !ends_value(text[value_end]) && !ieq(text.substr(value_end, 3), "%26") &&
               !(text[value_end] == ':' && (value_end + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[value_end + 1])))))
            ++value_end;
        if (value_end > value_start) out += redacted;
        i = value_end;
    }
    return out;
}

void redact_json_strings(nlohmann::ordered_json& doc) {
    if (doc.is_string()) doc = redact_url(doc.get_ref<const std::string&>());
    else if (doc.is_structured())
        for (auto& item : doc) redact_json_strings(item);
}

std::string redact_json(std::string_view json) {
    auto doc = parse_json_within_depth<nlohmann::ordered_json>(json); // walked by recursion below
    if (doc.is_discarded()) return "";
    redact_json_strings(doc);
    return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace skyscript::imagery
