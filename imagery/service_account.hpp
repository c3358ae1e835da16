#pragma once
// Google service-account credentials (the GOOGLE_APPLICATION_CREDENTIALS convention):
// key JSON -> RS256-signed JWT (OpenSSL) -> OAuth2 access token from the key's
// token_uri, cached and refreshed five minutes before it expires.
// The private key and the tokens never appear in an error message or log line.

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>

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

class TokenCache {
public:
    explicit TokenCache(ServiceAccount account, std::string scope = earthengine_scope);
    // A valid access token; fetches or refreshes it when needed (thread-safe).
    std::string token();
    int fetches() const noexcept { return fetches_; }

private:
    ServiceAccount account_;
    std::string scope_;
    std::mutex mutex_;
    std::string token_;
    std::chrono::steady_clock::time_point expires_{};
    int fetches_ = 0;
};

} // namespace skyscript::imagery
