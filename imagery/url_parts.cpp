#include "imagery/url_parts.hpp"

#include "imagery/gdal_drivers.hpp"

#include <cctype>

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

bool secure_or_loopback(std::string_view url) {
    if (!http_address(url) || url_has_user_info(url)) return false;
    const auto host = url_host(url);
    const bool loopback = host == "localhost" || host == "[::1]" ||
                          (host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string::npos);
    return loopback || has_url_scheme(url, "https://");
}

} // namespace skyscript::imagery
