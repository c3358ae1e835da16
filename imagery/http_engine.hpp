#pragma once
// The HTTP engine for every network source (docs/sources.md), on libcurl's multi
// interface: up to N requests in flight, a token-bucket rate per source, retries
// with exponential backoff and jitter on timeouts, resets, 5xx and 429 (honouring
// Retry-After), a bounded number of attempts and then a failure with its reason,
// validation of every body, HTTP/2 where offered, a User-Agent, an optional on-disk
// cache. Every request ends exactly once: fetched-and-valid, or failed-with-reason.
// Nothing a server does can make it hang or grow without bound: bodies are cut off at a
// size (decoded size: gzip is decoded as it arrives, never beyond the bound), a
// Retry-After above a cap fails the request instead of waiting, redirects go to http or
// https only and at most 5 times, and TLS certificates are always verified.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::imagery {

struct HttpResponse {
    long status = 0;
    std::string content_type;
    std::string body;
    std::string url; // where the answer came from, after any redirect: what relative links in it are read against
};

struct HttpRequest {
    std::uint64_t id = 0;            // the caller's
    std::string url;
    std::string method = "GET";      // GET or POST
    std::string body;                // POST body
    std::vector<std::string> headers; // "Name: value"
    std::string source;              // rate-limit bucket; "" = none
    // Returns an error reason when a 2xx body is not what was asked for (wrong
    // content type, not a decodable image of the expected size, ...); it is retried.
    std::function<std::optional<std::string>(const HttpResponse&)> validate;
    bool cacheable = true;
    // Headers taken when the request is sent, on the engine thread, for every attempt:
    // credentials that expire (a bearer token) are read fresh, not when it was queued.
    // A std::exception thrown here fails the request with its message.
    std::function<std::vector<std::string>()> start_headers;
    // Called once, on the engine thread, when the server answers 401 Unauthorized: it
    // renews the credentials, and the request is sent again at once (a second 401 fails).
    // A std::exception thrown here fails the request with its message.
    std::function<void()> renew_credentials;
    // The largest body taken (after decoding); 0 = the engine's max_body_bytes. A longer
    // body fails the request at once, without a retry: "response body larger than N bytes".
    std::uint64_t max_body_bytes = 0;
};

struct HttpResult {
    std::uint64_t id = 0;
    bool ok = false;
    HttpResponse response;           // the last response (body only when ok)
    std::string error;               // why it failed, after the last attempt
    std::string error_detail;        // the start of a failed response's body (services explain there)
    int attempts = 0;
    bool from_cache = false;
};

struct HttpEngineOptions {
    int max_in_flight = 32;
    int max_attempts = 5;
    double backoff_base_s = 0.5;     // first retry after ~0.5 s, then 1, 2, 4 ... with jitter
    double backoff_max_s = 60;
    double timeout_s = 60;           // whole transfer
    double connect_timeout_s = 10;
    std::string user_agent = "skyscript-build/0.1 (+https://github.com/skyscript-build)";
    std::string cache_dir;           // "" = no cache
    std::uint64_t seed = 1;          // jitter
    // Bodies longer than this (after decoding) are cut off and the request failed; each
    // source sets its own bound per request (a few times its largest answer).
    std::uint64_t max_body_bytes = 64ull << 20;
    // A Retry-After longer than this fails the request with what the server asked,
    // instead of waiting hours for it (Retry-After: 100000 is 28 hours per attempt).
    double max_retry_after_s = 300;
};

// Redirects followed at most (a loop fails with a reason).
inline constexpr long http_max_redirects = 5;

// Scheduling costs a bounded amount per request, however many wait: each source keeps
// a FIFO of ready requests, requests in backoff wait in one min-heap by due time, and a
// source at its in-flight cap or out of rate tokens is skipped without looking at its
// queue. A pass costs O(sources), not O(queued requests).
class HttpEngine {
public:
    // Throws std::invalid_argument for options that could never end or never start:
    // max_in_flight, max_attempts, timeout_s, connect_timeout_s or max_body_bytes not positive.
    explicit HttpEngine(HttpEngineOptions options = {});
    ~HttpEngine();
    HttpEngine(const HttpEngine&) = delete;
    HttpEngine& operator=(const HttpEngine&) = delete;

    // At most `per_second` request starts per second for `source`, bursts of `burst`.
    void set_rate(const std::string& source, double per_second, double burst = 1);
    // At most `n` requests of `source` in flight at once (below the engine's own cap).
    void set_max_in_flight(const std::string& source, int n);
    void submit(HttpRequest request);
    // Runs until every submitted request has ended; `on_done` is called once for each,
    // on this thread. It may submit more requests. An exception from `on_done` (or the
    // machine's: out of descriptors, of memory) leaves run() at once, and every request not
    // ended yet is dropped: the engine is empty, as after a run that ended.
    void run(const std::function<void(HttpResult&&)>& on_done);

    struct Stats {
        std::uint64_t requests = 0, retries = 0, ok = 0, failed = 0, cache_hits = 0;
        // Waiting requests the scheduler looked at: a bounded number per attempt, however
        // many others wait (a scan of the whole queue per pass would grow as passes x queue).
        std::uint64_t scheduling_steps = 0;
    };
    const Stats& stats() const noexcept { return stats_; }

private:
    void run_until_done(const std::function<void(HttpResult&&)>& on_done);
    struct Impl;
    std::unique_ptr<Impl> impl_;
    Stats stats_;
};

// Limits a libcurl easy handle to http and https, after redirects too (libcurl would
// follow one to ftp); every handle of the project goes through it.
void restrict_to_http(void* curl_easy_handle);

// Reason phrase for the status codes the sources map to messages.
std::string describe_http_status(long status);

// The hosts no proxy is used for, as CURLOPT_NOPROXY wants them: the environment's
// no_proxy (or NO_PROXY) list plus loopback (127.0.0.0/8, localhost, ::1), so a proxy
// set for the outside world never intercepts a loopback server. Setting the option
// replaces the variable, hence the merge.
std::string no_proxy_hosts();

} // namespace skyscript::imagery
