#pragma once
// The parts of a URL the sources check before sending anything there: its scheme and host.

#include <string>
#include <string_view>

namespace skyscript::imagery {

// Whether `url` is an http:// or https:// URL (the scheme in any case, as curl takes it).
bool http_address(std::string_view url);

// The host of an http(s) URL, lower case, without user info and port ("" if none).
std::string url_host(std::string_view url);

// Whether the URL names user info before its host (`user:password@host`).
bool url_has_user_info(std::string_view url);

// Whether a secret may travel to `url` (or one be taken from it): https, or any http(s) on a
// loopback host (a test's stand-in server); never with user info, which hides the host.
bool secure_or_loopback(std::string_view url);

} // namespace skyscript::imagery
