#pragma once
// Google service-account credentials (the GOOGLE_APPLICATION_CREDENTIALS convention):
// key JSON -> RS256-signed JWT (OpenSSL) -> OAuth2 access token from the key's
// token_uri, cached and refreshed before it expires (see TokenCache).
// The private key and the tokens never appear in an error message or log line.

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace skyscript::imagery {

class CredentialsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ServiceAccount {
    std::string client_email, private_key_pem, token_uri, project_id;
    std::string path; // where it was read from, for messages
};

// Reads and checks a key file; errors name the file and the missing field only.
ServiceAccount load_service_account(const std::string& path);
// The key file from GOOGLE_APPLICATION_CREDENTIALS, or CredentialsError saying how to set it.
ServiceAccount service_account_from_environment();

inline constexpr const char* earthengine_scope = "https://www.googleapis.com/auth/earthengine";

// header.claims.signature, base64url, RS256 over the key. `now` in seconds since the epoch.
std::string make_jwt(const ServiceAccount& account, const std::string& scope, long long now, int lifetime_s = 3600);
std::string base64url(std::string_view data);

// How long a token request may take and how often it is tried: the fetch's own --timeout and
// --attempts (a token endpoint that answers a byte a second held a build 30 s a try, 4 tries).
struct TokenRequestLimits {
    double timeout_s = 30;
    int attempts = 4;
};

class TokenCache {
public:
    // A token is replaced `max_refresh_margin` before it expires, or a fifth of its life
    // before when that is sooner (so a short-lived token is still used for most of its life).
    explicit TokenCache(ServiceAccount account, std::string scope = earthengine_scope,
                        std::chrono::seconds max_refresh_margin = std::chrono::minutes(5), TokenRequestLimits limits = {});
    // A valid access token; fetches one when there is none, when the current one is within
    // its refresh margin of expiry, or after invalidate() (thread-safe).
    std::string token();
    // The server refused `token` (HTTP 401): the next token() fetches a new one, unless
    // the current one is already another (many requests refused with one old token ask once).
    void invalidate(const std::string& token);
    int fetches() const;
    // `text` with every token this cache was given (the last few) replaced by REDACTED: a
    // server's message may echo the token it was sent, bare.
    std::string scrub(std::string text) const;
    // The key file (for messages that must not name it, to strip it).
    const std::string& key_file() const noexcept { return account_.path; }

    static std::chrono::steady_clock::duration refresh_margin(std::chrono::steady_clock::duration lifetime,
                                                              std::chrono::seconds max_margin);

private:
    ServiceAccount account_;
    std::string scope_;
    std::chrono::seconds max_margin_;
    TokenRequestLimits limits_;
    mutable std::mutex mutex_;
    std::string token_;
    std::vector<std::string> issued_; // the tokens given, the last few
    std::chrono::steady_clock::time_point refresh_at_{};
    int fetches_ = 0;
};

} // namespace skyscript::imagery
