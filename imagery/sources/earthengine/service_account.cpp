#include "imagery/sources/earthengine/service_account.hpp"

#include "imagery/local_resource_error.hpp"

#include "imagery/http_engine.hpp"
#include "imagery/one_line_text.hpp"
#include "imagery/url_parts.hpp"
#include "imagery/url_redaction.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace skyscript::imagery {

std::string base64url(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!out.empty() && out.back() == '=') out.pop_back();
    return out;
}

ServiceAccount load_service_account(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw CredentialsError(path + ": is a directory, not a service-account key file");
    // Opening a pipe (`<(vault read ...)`) would wait for a writer, and a later run reads the file again.
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
        throw CredentialsError(path + ": is a pipe or a device, not a service-account key file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CredentialsError(path + ": cannot read the service-account key file");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception&) {
        throw CredentialsError(path + ": not a JSON service-account key file");
    }
    ServiceAccount a;
    a.path = path;
    auto field = [&](const char* name) {
        if (!j.is_object() || !j.contains(name) || !j[name].is_string() || j[name].get<std::string>().empty())
            throw CredentialsError(path + ": the service-account key has no `" + name + "`");
        return j[name].get<std::string>();
    };
    if (j.is_object() && j.value("type", "service_account") != "service_account")
        throw CredentialsError(path + ": not a service-account key (type is `" + j.value("type", "") + "`)");
    a.client_email = field("client_email");
    a.private_key_pem = field("private_key");
    a.token_uri = j.is_object() && j.contains("token_uri") ? field("token_uri") : "https://oauth2.googleapis.com/token";
    // The signed assertion sent there is worth an access token for its hour: over https only
    // (or to a loopback test server), as the endpoint the token itself goes to.
    if (!secure_or_loopback(a.token_uri))
        throw CredentialsError(path + ": the service-account key's token_uri `" + one_line_text(redact_url(a.token_uri), 200) +
                               "` is not an https:// address; the signed key assertion would travel in clear");
    a.project_id = j.is_object() ? j.value("project_id", "") : "";
    // Parse the key once now, so a broken key is reported before any request.
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(a.private_key_pem.data(), static_cast<int>(a.private_key_pem.size())), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) throw CredentialsError(path + ": the private_key is not a PEM private key");
    return a;
}

ServiceAccount service_account_from_environment() {
    const char* p = std::getenv("GOOGLE_APPLICATION_CREDENTIALS");
    if (!p || !*p) throw CredentialsError("no Earth Engine credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file");
    return load_service_account(p);
}

std::string make_jwt(const ServiceAccount& account, const std::string& scope, long long now, int lifetime_s) {
    const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    const nlohmann::json claims = {{"iss", account.client_email}, {"scope", scope}, {"aud", account.token_uri},
                                   {"iat", now}, {"exp", now + lifetime_s}};
    const std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(account.private_key_pem.data(), static_cast<int>(account.private_key_pem.size())), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) throw CredentialsError(account.path + ": the private_key is not a PEM private key");
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t sig_len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
        throw CredentialsError(account.path + ": signing the token request failed (is it an RSA key?)");
    std::string sig(sig_len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
        throw CredentialsError(account.path + ": signing the token request failed");
    sig.resize(sig_len);
    return signing_input + "." + base64url(sig);
}

TokenCache::TokenCache(ServiceAccount account, std::string scope, std::chrono::seconds max_refresh_margin, TokenRequestLimits limits)
    : account_(std::move(account)), scope_(std::move(scope)), max_margin_(max_refresh_margin), limits_(limits) {}

std::chrono::steady_clock::duration TokenCache::refresh_margin(std::chrono::steady_clock::duration lifetime,
                                                               std::chrono::seconds max_margin) {
    return std::min<std::chrono::steady_clock::duration>(max_margin, lifetime / 5);
}

void TokenCache::invalidate(const std::string& token) {
    std::lock_guard lock(mutex_);
    if (token == token_) token_.clear();
}

int TokenCache::fetches() const {
    std::lock_guard lock(mutex_);
    return fetches_;
}

namespace {
// A token answer is a few hundred bytes: more than this is not one, and is not kept.
constexpr std::size_t max_token_answer = 1 << 20;
size_t append(char* data, size_t size, size_t n, void* out) {
    auto* body = static_cast<std::string*>(out);
    if (body->size() + size * n > max_token_answer) return 0;
    body->append(data, size * n);
    return size * n;
}
} // namespace

std::string TokenCache::scrub(std::string text) const {
    std::lock_guard lock(mutex_);
    for (const auto& t : issued_)
        if (t.size() >= 8)
            for (auto at = text.find(t); at != std::string::npos; at = text.find(t, at + redacted.size())) text.replace(at, t.size(), redacted);
    return text;
}

std::string TokenCache::token() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (!token_.empty() && now < refresh_at_) return token_;
    std::string last_error;
    const int attempts = std::max(1, limits_.attempts);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        const std::string jwt = make_jwt(account_, scope_, static_cast<long long>(std::time(nullptr)));
        CURL* c = curl_easy_init();
        if (!c) throw CredentialsError("libcurl: cannot create a handle");
        char* escaped = curl_easy_escape(c, jwt.c_str(), static_cast<int>(jwt.size()));
        const std::string form = std::string("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=") + escaped;
        curl_free(escaped);
        std::string body;
        const std::string no_proxy = no_proxy_hosts();
        curl_easy_setopt(c, CURLOPT_URL, account_.token_uri.c_str());
        curl_easy_setopt(c, CURLOPT_NOPROXY, no_proxy.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::clamp(limits_.timeout_s, 0.1, 3600.0) * 1000));
        restrict_to_http(c); // and no redirect is followed
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_token_answer));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        const CURLcode rc = curl_easy_perform(c);
        long status = 0, os_errno = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
        curl_easy_cleanup(c);
        ++fetches_;
        // No descriptor left is this machine's state: the key refused for good (and every job
        // after it) would blame the credentials.
        if (rc != CURLE_OK) stop_if_out_of_file_descriptors(std::string("the token request to ") + redact_url(account_.token_uri) + ": " +
                                                                curl_easy_strerror(rc), static_cast<int>(os_errno));
        if (rc == CURLE_OK && status == 200) {
            try {
                const auto j = nlohmann::json::parse(body);
                const auto token = j.at("access_token").get<std::string>();
                // It goes into a header: a CR or LF in it would add headers of the server's choosing to every request.
                if (token.empty() || std::any_of(token.begin(), token.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f; }))
                    throw CredentialsError(redact_url(account_.token_uri) + ": the token answer's access_token is empty or holds spaces or control characters");
                token_ = token;
                if (issued_.size() >= 8) issued_.erase(issued_.begin());
                issued_.push_back(token_);
                // A number of seconds, which some servers send as a string; else Google's hour.
                static const nlohmann::json none; // a reference either way: a copy of a server's value recursed a level at a time
                const auto& e = j.contains("expires_in") ? j["expires_in"] : none;
                long long seconds = 3600;
                if (e.is_number()) seconds = e.get<long long>();
                else if (e.is_string()) seconds = std::strtoll(e.get<std::string>().c_str(), nullptr, 10);
                if (seconds <= 0 || seconds > 86400 * 365) seconds = 3600;
                const auto lifetime = std::chrono::seconds(seconds);
                refresh_at_ = now + lifetime - refresh_margin(lifetime, max_margin_);
                return token_;
            } catch (const nlohmann::json::exception&) {
                throw CredentialsError(redact_url(account_.token_uri) + ": the token answer has no access_token");
            }
        }
        if (rc == CURLE_OK && status >= 400 && status < 500 && status != 429) {
            std::string why;
            try {
                const auto j = nlohmann::json::parse(body);
                why = j.value("error_description", j.value("error", ""));
            } catch (const nlohmann::json::exception&) {
            }
            // A server (or a proxy) that echoes the request would print the signed assertion,
            // which buys a token for its hour: cut out, as tokens are.
            for (auto at = why.find(jwt); at != std::string::npos; at = why.find(jwt, at + redacted.size())) why.replace(at, jwt.size(), redacted);
            why = one_line_text(why, 500);
            throw CredentialsError(account_.path + ": " + redact_url(account_.token_uri) + " refused the service-account key for " +
                                   account_.client_email + " (HTTP " + std::to_string(status) + (why.empty() ? "" : ": " + why) + ")");
        }
        last_error = rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status);
        if (attempt < attempts) std::this_thread::sleep_for(std::chrono::milliseconds(250 << std::min(attempt, 4)));
    }
    throw CredentialsError(redact_url(account_.token_uri) + ": cannot get an access token (" + last_error + ")");
}

} // namespace skyscript::imagery
