#include "imagery/url_parts.hpp"

#include "imagery/gdal_drivers.hpp"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <new>

namespace skyscript::imagery {

namespace {

// What lies between `scheme://` and the path, query or fragment ("" without a scheme).
std::string_view authority(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return "";
    const auto rest = url.substr(scheme + 3);
    return rest.substr(0, rest.find_first_of("/?#"));
}

} // namespace

bool http_address(std::string_view url) { return has_url_scheme(url, "http://") || has_url_scheme(url, "https://"); }

std::string url_host(std::string_view url) {
    auto rest = authority(url);
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    if (rest.starts_with("[")) return std::string(rest.substr(0, rest.find(']') + 1)); // an IPv6 literal
    std::string host(rest.substr(0, rest.find(':')));
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return host;
}

bool url_has_user_info(std::string_view url) { return authority(url).find('@') != std::string_view::npos; }

std::optional<std::string> resolve_url(const std::string& base, const std::string& ref) {
    // No reference, or a fragment alone, names the page itself (RFC 3986 5.2.2): no asset or
    // next page of ours (a JSON page read as a raster, or asked for again).
    if (ref.empty() || ref[0] == '#') return std::nullopt;
    // An absolute reference (RFC 3986's scheme, then ':') is kept byte for byte: a signed
    // href's query is not re-encoded.
    const auto colon = ref.find(':');
    if (colon != std::string::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(ref[0])) &&
        ref.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") >= colon)
        return ref;
    const std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
    if (!url) throw std::bad_alloc();
    // Non-supporting schemes are parsed too (file:, gopher:): the caller decides what it follows.
    const unsigned flags = CURLU_NON_SUPPORT_SCHEME;
    if (curl_url_set(url.get(), CURLUPART_URL, base.c_str(), flags) != CURLUE_OK) return std::nullopt;
    // Set on a handle holding a URL, a relative one is resolved against it.
    if (curl_url_set(url.get(), CURLUPART_URL, ref.c_str(), flags) != CURLUE_OK) return std::nullopt;
    char* text = nullptr;
    if (curl_url_get(url.get(), CURLUPART_URL, &text, 0) != CURLUE_OK || !text) return std::nullopt;
    std::string out(text);
    curl_free(text);
    return out;
}

std::string percent_encoded(std::string_view text, std::string_view keep) {
    std::string out;
    out.reserve(text.size());
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || keep.find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

bool secure_or_loopback(std::string_view url) {
    if (!http_address(url) || url_has_user_info(url)) return false;
    const auto host = url_host(url);
    const bool loopback = host == "localhost" || host == "[::1]" ||
                          (host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string::npos);
    return loopback || has_url_scheme(url, "https://");
}

} // namespace skyscript::imagery
