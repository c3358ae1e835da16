#include "imagery/http_engine.hpp"

#include "imagery/local_resource_error.hpp"
#include "imagery/sha256_hex.hpp"
#include "imagery/token_bucket.hpp"
#include "imagery/url_redaction.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unistd.h>

namespace skyscript::imagery {

namespace {

using Clock = std::chrono::steady_clock;

void global_curl_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Pending {
    HttpRequest request;
    int attempts = 0;
    bool cache_checked = false; // looked up once, when it first reaches the front of its queue
    bool renewed = false;       // credentials renewed after a 401, once
};

// The requests of one rate/in-flight bucket ("" = none): the ready ones in order.
struct Source {
    std::deque<Pending> ready;
    std::optional<TokenBucket> bucket;
    int cap = 0; // in flight at once; 0 = only the engine's cap
    int in_flight = 0;
};

// A request waiting on its backoff (or Retry-After) until `due`.
struct Waiting {
    Clock::time_point due;
    std::uint64_t seq = 0; // equal due times: in the order they began to wait
    Source* source = nullptr;
    Pending job;
};
// Min-heap order for std::push_heap / std::pop_heap.
bool later(const Waiting& a, const Waiting& b) { return a.due != b.due ? a.due > b.due : a.seq > b.seq; }

struct Transfer {
    Pending job;
    Source* source = nullptr;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    std::uint64_t max_body = 0;
    bool too_large = false;
};

// libcurl hands over decoded bytes (gzip and deflate are decoded as they arrive), so the
// bound holds for what is kept in memory, however small the compressed body was.
// Returning less than given stops the transfer (CURLE_WRITE_ERROR).
size_t write_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t bytes = size * n;
    if (t->body.size() + bytes > t->max_body) {
        t->too_large = true;
        return 0;
    }
    t->body.append(data, bytes);
    return bytes;
}

std::string body_too_large(std::uint64_t max) { return "response body larger than " + std::to_string(max) + " bytes"; }

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

HttpEngineOptions checked(HttpEngineOptions o) {
    auto positive = [](double v, const char* name, const char* what) {
        if (!(v > 0)) throw std::invalid_argument(std::string("HTTP engine: ") + name + " (" + what + ") must be positive, got " + seconds(v));
    };
    positive(o.max_in_flight, "max_in_flight", "requests in flight at once");
    positive(o.max_attempts, "max_attempts", "attempts per request");
    positive(o.timeout_s, "timeout_s", "seconds per transfer");
    positive(o.connect_timeout_s, "connect_timeout_s", "seconds to connect");
    positive(double(o.max_body_bytes), "max_body_bytes", "largest body");
    if (!(o.max_retry_after_s >= 0)) throw std::invalid_argument("HTTP engine: max_retry_after_s must be 0 or more, got " + seconds(o.max_retry_after_s));
    if (!(o.backoff_base_s >= 0) || !(o.backoff_max_s >= 0)) throw std::invalid_argument("HTTP engine: backoff times must be 0 or more");
    return o;
}

} // namespace

void restrict_to_http(CURL* handle) {
#if LIBCURL_VERSION_NUM >= 0x075500 // 7.85: the string forms (Debian 12 has 7.88)
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

namespace {

// Seconds as libcurl's milliseconds, capped (a huge value would overflow a long) and at least
// one: libcurl reads 0 as no limit at all, which --timeout 0.0009 (0 ms) had given, a stalled
// server then holding the fetch for ever (red-team round 37).
long milliseconds(double s) { return std::max(1L, static_cast<long>(std::ceil(std::min(s * 1000, 2e9)))); }

bool retryable_curl_error(CURLcode c) {
    switch (c) {
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_COULDNT_CONNECT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_COULDNT_RESOLVE_HOST:
            return true;
        default:
            return false;
    }
}

std::string cache_key(const HttpRequest& r) { return sha256_hex(r.method + "\n" + r.url + "\n" + r.body); }

} // namespace

std::string describe_http_status(long status) {
    switch (status) {
        case 400: return "HTTP 400 Bad Request";
        case 401: return "HTTP 401 Unauthorized";
        case 403: return "HTTP 403 Forbidden";
        case 404: return "HTTP 404 Not Found";
        case 408: return "HTTP 408 Request Timeout";
        case 429: return "HTTP 429 Too Many Requests";
        case 500: return "HTTP 500 Internal Server Error";
        case 502: return "HTTP 502 Bad Gateway";
        case 503: return "HTTP 503 Service Unavailable";
        case 504: return "HTTP 504 Gateway Timeout";
        default: return "HTTP " + std::to_string(status);
    }
}

std::string no_proxy_hosts() {
    const char* env = std::getenv("no_proxy");
    if (!env || !*env) env = std::getenv("NO_PROXY");
    const std::string user = env ? env : "";
    if (user == "*") return user; // curl takes "*" (every host) only on its own
    return (user.empty() ? "" : user + ",") + "127.0.0.0/8,localhost,::1";
}

struct HttpEngine::Impl {
    HttpEngineOptions options;
    std::string no_proxy = no_proxy_hosts();
    CURLM* multi = nullptr;
    std::map<CURL*, std::unique_ptr<Transfer>> in_flight;
    // Node-based: a Source's address stays put while others are added (Transfer and
    // Waiting point at it). `order` is the round-robin order of the sources.
    std::unordered_map<std::string, Source> sources;
    std::vector<Source*> order;
    std::size_t next_source = 0;
    std::vector<Waiting> backoff; // a min-heap by due time
    std::uint64_t backoff_seq = 0;
    std::size_t queued = 0;       // ready or in backoff
    std::mt19937_64 rng;

    explicit Impl(HttpEngineOptions o) : options(checked(std::move(o))), rng(options.seed) {
        global_curl_init();
        multi = curl_multi_init();
        if (!multi) throw std::runtime_error("libcurl: cannot create a multi handle");
        curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options.max_in_flight));
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(options.max_in_flight) * 2);
    }
    ~Impl() {
        drop_all();
        curl_multi_cleanup(multi);
    }
    // Every request not ended forgotten: in flight, ready or in backoff. After run() was left
    // by an exception (a caller's on_done that stops its fetch), the next run() would
    // otherwise go on with them, and their validate() may point into a caller's frame
    // that is gone.
    void drop_all() {
        for (auto& [easy, t] : in_flight) {
            curl_multi_remove_handle(multi, easy);
            curl_easy_cleanup(easy);
            curl_slist_free_all(t->headers);
        }
        in_flight.clear();
        for (auto& [name, src] : sources) {
            src.ready.clear();
            src.in_flight = 0;
        }
        backoff.clear();
        queued = 0;
    }

    Source& source(const std::string& name) {
        auto [it, added] = sources.try_emplace(name);
        if (added) order.push_back(&it->second);
        return it->second;
    }

    std::optional<std::string> cache_read(const HttpRequest& r) {
        if (options.cache_dir.empty() || !r.cacheable) return std::nullopt;
        const auto key = cache_key(r);
        std::ifstream in(std::filesystem::path(options.cache_dir) / key.substr(0, 2) / key, std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    void cache_write(const HttpRequest& r, const HttpResponse& resp) {
        if (options.cache_dir.empty() || !r.cacheable) return;
        const auto key = cache_key(r);
        const auto dir = std::filesystem::path(options.cache_dir) / key.substr(0, 2);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        // "content-type\n" then the body; written aside and renamed, so a reader never sees half.
        const auto tmp = dir / (key + ".tmp" + std::to_string(::getpid()));
        {
            std::ofstream out(tmp, std::ios::binary);
            out << resp.content_type << '\n' << resp.body;
            if (!out) return;
        }
        std::filesystem::rename(tmp, dir / key, ec);
    }

    void start(Pending&& job, Source& src, const std::vector<std::string>& extra_headers) {
        auto t = std::make_unique<Transfer>();
        t->job = std::move(job);
        t->source = &src;
        t->max_body = t->job.request.max_body_bytes ? t->job.request.max_body_bytes : options.max_body_bytes;
        ++t->job.attempts;
        ++src.in_flight;
        CURL* e = curl_easy_init();
        if (!e) throw std::runtime_error("libcurl: cannot create an easy handle");
        t->easy = e;
        const auto& r = t->job.request;
        curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
        curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, milliseconds(options.timeout_s));
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(options.connect_timeout_s));
        // A retry on a connection of its own: the one that failed may hold what the server sent
        // past its Content-Length, which a reuse read as the next reply's status line
        // ("Unsupported protocol", not retried; red-team round 36).
        if (t->job.attempts > 1) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_NOPROXY, no_proxy.c_str());
        // http and https only, also after a redirect (libcurl would follow one to ftp), and
        // at most http_max_redirects of them. Certificates are verified (libcurl's default,
        // set here so no code path can lose it); nothing turns this off.
        restrict_to_http(e);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, http_max_redirects);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        // A body whose Content-Length is over the bound is refused before it is read; one
        // without it (chunked, or compressed) is cut off in write_body.
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(std::min<std::uint64_t>(t->max_body, LLONG_MAX)));
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
        if (r.method == "POST") {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
            // A POST stays a POST with its body after a 301 or 302 (an API moved from http to
            // https): libcurl's default resends it as a GET without the body, so a STAC search
            // lost its bbox, dates and collection and paged through the whole catalogue. A 303
            // (See Other) is a GET of another resource, as HTTP says.
            curl_easy_setopt(e, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_301 | CURL_REDIR_POST_302));
        }
        for (const auto& h : r.headers) t->headers = curl_slist_append(t->headers, h.c_str());
        for (const auto& h : extra_headers) t->headers = curl_slist_append(t->headers, h.c_str());
        if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        curl_multi_add_handle(multi, e);
        in_flight.emplace(e, std::move(t));
    }

    void wait_backoff(Pending&& job, Source& src, Clock::time_point due) {
        backoff.push_back(Waiting{due, backoff_seq++, &src, std::move(job)});
        std::push_heap(backoff.begin(), backoff.end(), later);
        ++queued;
    }

    double backoff_s(int attempt, double retry_after) {
        const double exp = std::min(options.backoff_max_s, options.backoff_base_s * std::pow(2.0, attempt - 1));
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        return std::max(retry_after, exp * jitter(rng));
    }
};

HttpEngine::HttpEngine(HttpEngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpEngine::~HttpEngine() = default;

void HttpEngine::set_rate(const std::string& source, double per_second, double burst) {
    auto& s = impl_->source(source);
    if (!(per_second > 0)) {
        s.bucket.reset();
        return;
    }
    TokenBucket b;
    b.rate = per_second;
    b.burst = std::max(1.0, burst);
    b.tokens = b.burst;
    s.bucket = b;
}

void HttpEngine::set_max_in_flight(const std::string& source, int n) { impl_->source(source).cap = std::max(0, n); }

void HttpEngine::submit(HttpRequest request) {
    auto& s = impl_->source(request.source);
    Pending p;
    p.request = std::move(request);
    s.ready.push_back(std::move(p));
    ++impl_->queued;
}

void HttpEngine::run(const std::function<void(HttpResult&&)>& on_done) {
    try {
        run_until_done(on_done);
    } catch (...) {
        impl_->drop_all();
        throw;
    }
}

void HttpEngine::run_until_done(const std::function<void(HttpResult&&)>& on_done) {
    auto& m = *impl_;
    auto finish = [&](Pending& job, bool ok, HttpResponse&& resp, std::string error, bool from_cache,
                      std::string detail = {}) {
        HttpResult r;
        r.error_detail = std::move(detail);
        r.id = job.request.id;
        r.ok = ok;
        r.response = std::move(resp);
        r.error = std::move(error);
        r.attempts = job.attempts;
        r.from_cache = from_cache;
        ++(ok ? stats_.ok : stats_.failed);
        on_done(std::move(r));
    };
    auto engine_full = [&] { return static_cast<int>(m.in_flight.size()) >= m.options.max_in_flight; };

    while (m.queued > 0 || !m.in_flight.empty()) {
        const auto now = Clock::now();
        // Requests whose backoff is over go back to the front of their source's queue.
        while (!m.backoff.empty() && m.backoff.front().due <= now) {
            std::pop_heap(m.backoff.begin(), m.backoff.end(), later);
            Waiting w = std::move(m.backoff.back());
            m.backoff.pop_back();
            ++stats_.scheduling_steps;
            w.source->ready.push_front(std::move(w.job));
        }
        double sleep_s = 0.1;
        if (!m.backoff.empty()) sleep_s = std::min(sleep_s, std::chrono::duration<double>(m.backoff.front().due - now).count());

        // Start what may start, one request per source in turn, until no source can:
        // a source without ready requests, at its cap or out of tokens costs O(1).
        for (bool started = true; started && !engine_full();) {
            started = false;
            const std::size_t n = m.order.size(); // on_done may add sources; they wait for the next round
            for (std::size_t i = 0; i < n && !engine_full(); ++i) {
                const std::size_t k = (m.next_source + i) % n;
                Source& src = *m.order[k];
                if (src.ready.empty() || (src.cap > 0 && src.in_flight >= src.cap)) continue;
                if (!src.ready.front().cache_checked) {
                    Pending& job = src.ready.front();
                    job.cache_checked = true;
                    ++stats_.scheduling_steps;
                    if (auto cached = m.cache_read(job.request)) {
                        HttpResponse resp;
                        const auto nl = cached->find('\n');
                        resp.status = 200;
                        resp.content_type = cached->substr(0, nl);
                        resp.body = cached->substr(nl == std::string::npos ? cached->size() : nl + 1);
                        if (!job.request.validate || !job.request.validate(resp)) {
                            Pending done = std::move(job);
                            src.ready.pop_front();
                            --m.queued;
                            ++stats_.cache_hits;
                            started = true;
                            finish(done, true, std::move(resp), {}, true);
                            continue;
                        }
                    }
                }
                if (src.bucket) {
                    if (const double wait = src.bucket->wait(now); wait > 0) {
                        sleep_s = std::min(sleep_s, wait);
                        continue;
                    }
                }
                Pending job = std::move(src.ready.front());
                src.ready.pop_front();
                --m.queued;
                ++stats_.scheduling_steps;
                started = true;
                m.next_source = k + 1;
                std::vector<std::string> extra;
                if (job.request.start_headers) {
                    try {
                        extra = job.request.start_headers();
                    } catch (const LocalResourceError&) { // the machine's: the run stops
                        throw;
                    } catch (const std::bad_alloc&) { // the machine's too
                        throw;
                    } catch (const std::exception& e) {
                        finish(job, false, {}, e.what(), false);
                        continue;
                    }
                }
                if (src.bucket) src.bucket->tokens -= 1;
                ++stats_.requests;
                if (job.attempts > 0) ++stats_.retries;
                m.start(std::move(job), src, extra);
            }
        }

        int running = 0;
        curl_multi_perform(m.multi, &running);
        int left = 0;
        bool completed = false;
        while (CURLMsg* msg = curl_multi_info_read(m.multi, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            completed = true;
            CURL* e = msg->easy_handle;
            auto node = m.in_flight.extract(e);
            auto& t = *node.mapped();
            const CURLcode code = msg->data.result;
            HttpResponse resp;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
            char* ct = nullptr;
            curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct);
            if (ct) resp.content_type = ct;
            curl_off_t retry_after = 0;
            curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &retry_after);
            long redirects = 0;
            curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
            char* last_url = nullptr;
            curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &last_url);
            if (last_url) resp.url = last_url;
            const std::string where = last_url ? redact_url(last_url) : std::string();
            long os_errno = 0;
            curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
            curl_multi_remove_handle(m.multi, e);
            curl_easy_cleanup(e);
            curl_slist_free_all(t.headers);
            resp.body = std::move(t.body);
            Pending& job = t.job;
            Source& src = *t.source;
            --src.in_flight;

            bool retry = false;
            std::string error;
            if (t.too_large || code == CURLE_FILESIZE_EXCEEDED) {
                error = body_too_large(t.max_body); // the same again: no retry
            } else if (code == CURLE_TOO_MANY_REDIRECTS) {
                error = "more than " + std::to_string(http_max_redirects) + " redirects (a redirect loop?), the last to " + where;
            } else if (code == CURLE_UNSUPPORTED_PROTOCOL && redirects > 0) {
                error = "redirected to a URL that is not http or https (" + where + "): refused";
            } else if (code != CURLE_OK) {
                error = std::string(curl_easy_strerror(code));
                // A socket() refused for want of descriptors reads "Couldn't connect to server":
                // this machine's limit, not the server's fault, and no retry mends it.
                stop_if_out_of_file_descriptors(error + " at " + where, static_cast<int>(os_errno));
                retry = retryable_curl_error(code);
            } else if (resp.status >= 200 && resp.status < 300) {
                if (job.request.validate)
                    if (auto why = job.request.validate(resp)) error = "invalid response: " + *why, retry = true;
            } else {
                error = describe_http_status(resp.status);
                retry = resp.status == 429 || resp.status == 408 || resp.status >= 500;
            }
            // A failure after a redirect is named where it happened: the URL asked had answered
            // 302, and its name alone sent the user to a server that was up (red-team round 42).
            if (!error.empty() && redirects > 0 && !where.empty() && error.find(where) == std::string::npos)
                error += " at " + where + " (where a redirect led)";
            if (error.empty()) {
                m.cache_write(job.request, resp);
                finish(job, true, std::move(resp), {}, false);
            } else if (resp.status == 401 && job.request.renew_credentials && !job.renewed) {
                // Credentials that expired in flight: renew them and send again at once.
                job.renewed = true;
                try {
                    job.request.renew_credentials();
                    src.ready.push_front(std::move(job));
                    ++m.queued;
                } catch (const std::bad_alloc&) { // the machine's, not the source's
                    throw;
                } catch (const std::exception& ex) {
                    resp.body.clear();
                    finish(job, false, std::move(resp), ex.what(), false);
                }
            } else if (retry && double(retry_after) > m.options.max_retry_after_s) {
                // Waiting hours for one tile would stall the build: fail it with what was asked.
                resp.body.clear();
                finish(job, false, std::move(resp),
                       error + ": server asked to retry after " + std::to_string(retry_after) + " s, more than the " +
                           seconds(m.options.max_retry_after_s) + " s cap",
                       false);
            } else if (retry && job.attempts < m.options.max_attempts) {
                const double wait = m.backoff_s(job.attempts, double(retry_after));
                m.wait_backoff(std::move(job), src,
                               Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait)));
            } else {
                std::string detail = resp.status >= 400 ? resp.body.substr(0, 2000) : std::string();
                resp.body.clear();
                finish(job, false, std::move(resp),
                       error + (job.attempts > 1 ? " (after " + std::to_string(job.attempts) + " attempts)" : ""), false,
                       std::move(detail));
            }
        }
        // Freed slots are refilled at once; waiting is only for sockets, backoff or rate.
        if (completed) continue;
        if (!m.in_flight.empty()) {
            curl_multi_poll(m.multi, nullptr, 0, static_cast<int>(std::max(1.0, sleep_s * 1000)), nullptr);
        } else if (m.queued > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.001, sleep_s)));
        }
    }
}

} // namespace skyscript::imagery
