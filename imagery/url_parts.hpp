#pragma once
// The parts of a URL the sources check before sending anything there: its scheme and host.

#include <optional>
#include <string>
#include <string_view>

namespace skyscript::imagery {

// Whether `url` is an http:// or https:// URL (the scheme in any case, as curl takes it).
bool http_address(std::string_view url);

// The host of an http(s) URL, lower case, without user info and port ("" if none).
std::string url_host(std::string_view url);

// Whether the URL names user info before its host (`user:password@host`).
bool url_has_user_info(std::string_view url);

// `ref` read against `base` as a browser would (RFC 3986): an absolute URL as it is, a
// relative one ("search?page=2", "../cog/a.tif", "/x") resolved; nullopt when `ref` is empty
// or a fragment alone (the page itself), `base` is no URL to resolve against, or the result
// does not parse. A STAC link or asset may be relative.
std::optional<std::string> resolve_url(const std::string& base, const std::string& ref);

// `text` percent-encoded (RFC 3986): every byte but the unreserved (letters, digits, - . _ ~)
// and those in `keep` as %XX. A query's value (keep ""), a file: URI's path (keep "/").
std::string percent_encoded(std::string_view text, std::string_view keep = "");

// Whether a secret may travel to `url` (or one be taken from it): https, or any http(s) on a
// loopback host (a test's stand-in server); never with user info, which hides the host.
bool secure_or_loopback(std::string_view url);

} // namespace skyscript::imagery
