// The HTTP engine against a real loopback server (tests/http_test_server.py) that
// injects latency, 5xx, 429 + Retry-After, connection resets, truncated bodies and
// wrong content types. Every request must end fetched-and-valid or failed-with-reason,
// and nothing corrupt may come back as fetched.

#include "http_engine.hpp"
#include "jpeg.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

using namespace skyscript::imagery;
using namespace skyscript::test;

namespace {

ServerProcess start_server(const std::string& extra = "") {
    std::vector<std::string> argv{"python3", source_dir() + "/tests/http_test_server.py", "--root", source_dir() + "/tests/data/tiles"};
    if (!extra.empty()) argv.push_back(extra.substr(0, extra.find(' '))), argv.push_back(extra.substr(extra.find(' ') + 1));
    return ServerProcess(argv);
}

// A valid tile: image/jpeg that decodes to the expected size.
std::optional<std::string> valid_tile(const HttpResponse& r, int px) {
    if (r.content_type.rfind("image/", 0) != 0) return "content type " + r.content_type;
    try {
        const auto img = decode_jpeg(r.body);
        if (img.width != px || img.height != px) return "image is " + std::to_string(img.width) + " px wide";
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

HttpEngineOptions fast_options() {
    HttpEngineOptions o;
    o.backoff_base_s = 0.05;
    o.backoff_max_s = 0.5;
    o.max_attempts = 4;
    o.timeout_s = 5;
    return o;
}

std::map<std::uint64_t, HttpResult> fetch_all(HttpEngine& engine, const std::vector<std::string>& urls, int px = 256) {
    std::uint64_t id = 0;
    for (const auto& u : urls) {
        HttpRequest r;
        r.id = id++;
        r.url = u;
        r.source = "test";
        r.validate = [px](const HttpResponse& resp) { return valid_tile(resp, px); };
        engine.submit(std::move(r));
    }
    std::map<std::uint64_t, HttpResult> results;
    engine.run([&](HttpResult&& r) { CHECK(results.emplace(r.id, std::move(r)).second); }); // each ends once
    return results;
}

const std::string tile = "/xyz/17/62093/50163.jpg";

} // namespace

TEST_CASE("every fault ends fetched-and-valid or failed-with-reason; nothing corrupt is returned") {
    const auto server = start_server();
    HttpEngine engine(fast_options());
    const std::vector<std::string> urls{
        server.url(tile),                               // plain
        server.url("/f/503/2" + tile),                  // 5xx twice, then fine
        server.url("/f/reset/1" + tile),                // connection reset once
        server.url("/f/truncate/2" + tile),             // truncated body twice
        server.url("/f/html/1" + tile),                 // wrong content type once
        server.url("/f/slow-100/1" + tile),             // latency
        server.url("/f/503/99" + tile),                 // never recovers
        server.url("/f/404/1" + tile),                  // not found: no retry
        server.url("/f/html/99" + tile),                // always the wrong content type
        server.url("/f/truncate/99" + tile),            // always truncated
    };
    const auto results = fetch_all(engine, urls);
    REQUIRE(results.size() == urls.size());
    for (std::uint64_t i = 0; i < 6; ++i) {
        INFO(urls[i] << ": " << results.at(i).error);
        CHECK(results.at(i).ok);
        CHECK_FALSE(valid_tile(results.at(i).response, 256).has_value());
    }
    CHECK(results.at(1).attempts == 3);
    CHECK(results.at(2).attempts == 2);
    CHECK(results.at(3).attempts == 3);
    CHECK(results.at(4).attempts == 2);
    for (std::uint64_t i = 6; i < urls.size(); ++i) {
        INFO(urls[i]);
        CHECK_FALSE(results.at(i).ok);
        CHECK(results.at(i).response.body.empty()); // nothing partial handed back
        CHECK_FALSE(results.at(i).error.empty());
    }
    CHECK(results.at(6).error == "HTTP 503 Service Unavailable (after 4 attempts)");
    CHECK(results.at(7).error == "HTTP 404 Not Found");
    CHECK(results.at(7).attempts == 1);
    CHECK(results.at(8).error.find("invalid response: content type text/html") == 0);
    CHECK(results.at(9).attempts == 4);
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    CHECK(stats["user_agents"][0].get<std::string>().rfind("skyscript-build/", 0) == 0);
}

TEST_CASE("429 with Retry-After: the retry waits at least that long") {
    const auto server = start_server();
    HttpEngine engine(fast_options());
    const auto path = "/f/429-1/1" + tile;
    const auto results = fetch_all(engine, {server.url(path)});
    CHECK(results.at(0).ok);
    CHECK(results.at(0).attempts == 2);
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    const auto times = stats["times"][path];
    REQUIRE(times.size() == 2);
    CHECK(times[1].get<double>() - times[0].get<double>() >= 0.95);
}

TEST_CASE("at most N requests in flight, exactly") {
    const auto server = start_server("--latency-ms 150");
    auto o = fast_options();
    o.max_in_flight = 4;
    HttpEngine engine(o);
    std::vector<std::string> urls;
    for (int i = 0; i < 16; ++i) urls.push_back(server.url(tile + "?n=" + std::to_string(i)));
    const auto start = std::chrono::steady_clock::now();
    const auto results = fetch_all(engine, urls);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& [id, r] : results) CHECK(r.ok);
    // The server counts a request from its arrival until its reply starts, and not /stats.
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    CHECK(stats["max_active"].get<int>() == 4);
    CHECK(seconds >= 0.55); // 16 / 4 x 150 ms
}

TEST_CASE("a per-source in-flight cap below the engine's, exactly") {
    const auto server = start_server("--latency-ms 150");
    auto o = fast_options();
    o.max_in_flight = 8;
    HttpEngine engine(o);
    engine.set_max_in_flight("test", 3);
    std::vector<std::string> urls;
    for (int i = 0; i < 12; ++i) urls.push_back(server.url(tile + "?c=" + std::to_string(i)));
    const auto results = fetch_all(engine, urls);
    for (const auto& [id, r] : results) CHECK(r.ok);
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    CHECK(stats["max_active"].get<int>() == 3);
}

// Arrival times at the server of the requests whose path contains `marker`, in order.
static std::vector<double> arrivals(const nlohmann::json& stats, const std::string& marker) {
    std::vector<double> t;
    for (const auto& [path, times] : stats["times"].items())
        if (path.find(marker) != std::string::npos)
            for (const auto& x : times) t.push_back(x.get<double>());
    std::sort(t.begin(), t.end());
    return t;
}

TEST_CASE("a token bucket rate per source: two sources, each at its own rate") {
    const auto server = start_server();
    HttpEngine engine(fast_options());
    engine.set_rate("fast", 40, 1);
    engine.set_rate("slow", 10, 1);
    std::uint64_t id = 0;
    auto add = [&](const std::string& source, int n) {
        for (int i = 0; i < n; ++i) {
            HttpRequest r;
            r.id = id++;
            r.url = server.url(tile + "?" + source + "=" + std::to_string(i));
            r.source = source;
            engine.submit(std::move(r));
        }
    };
    add("fast", 21);
    add("slow", 6);
    int ok = 0;
    engine.run([&](HttpResult&& r) { ok += r.ok; });
    CHECK(ok == 27);
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    const auto fast = arrivals(stats, "?fast="), slow = arrivals(stats, "?slow=");
    REQUIRE(fast.size() == 21);
    REQUIRE(slow.size() == 6);
    // Each source is held to its own rate: 20 waits of 25 ms, 5 waits of 100 ms ...
    CHECK(fast.back() - fast.front() >= 0.95 * 20 / 40.0);
    CHECK(slow.back() - slow.front() >= 0.95 * 5 / 10.0);
    // ... and the fast one does not wait on the slow one's tokens (one bucket shared at
    // 10/s would take 2 s for the fast source's 21 requests).
    CHECK(fast.back() - fast.front() < 1.5);
}

TEST_CASE("scheduling cost grows with the requests, not with requests x queue length") {
    // 300 requests wait on a rate limit, and each is answered 503 once and then waits on a
    // backoff: a scheduler that looks at every waiting request on every pass takes tens of
    // thousands of steps here; one with ready queues and a timer heap takes a few per attempt.
    const auto server = start_server();
    HttpEngine engine(fast_options());
    engine.set_rate("test", 300, 1);
    std::vector<std::string> urls;
    for (int i = 0; i < 300; ++i) urls.push_back(server.url("/f/503/1" + tile + "?s=" + std::to_string(i)));
    const auto results = fetch_all(engine, urls);
    REQUIRE(results.size() == 300);
    for (const auto& [id, r] : results) CHECK(r.attempts == 2);
    const auto& st = engine.stats();
    CHECK(st.requests == 600);
    CHECK(st.ok == 300);
    INFO("scheduling steps: " << st.scheduling_steps);
    CHECK(st.scheduling_steps <= 3 * st.requests);
}

TEST_CASE("on_done may submit more, to its source or to a new one; each request ends once") {
    const auto server = start_server();
    HttpEngine engine(fast_options());
    engine.set_rate("first", 200, 5);
    for (std::uint64_t i = 0; i < 10; ++i) {
        HttpRequest r;
        r.id = i;
        r.url = server.url(tile + "?first=" + std::to_string(i));
        r.source = "first";
        engine.submit(std::move(r));
    }
    std::map<std::uint64_t, int> ended;
    engine.run([&](HttpResult&& r) {
        CHECK(r.ok);
        ++ended[r.id];
        if (r.id >= 10) return;
        HttpRequest next; // every first-round result asks for one more, half on a source not seen before
        next.id = 100 + r.id;
        next.source = r.id % 2 ? "first" : "later-" + std::to_string(r.id);
        next.url = server.url(tile + "?next=" + std::to_string(r.id));
        engine.submit(std::move(next));
    });
    CHECK(ended.size() == 20);
    for (const auto& [id, n] : ended) CHECK(n == 1);
    CHECK(engine.stats().requests == 20);
}

TEST_CASE("loopback requests bypass any proxy from the environment") {
    const auto server = start_server();
    // A proxy nobody listens on: a request sent through it fails. The user's own no_proxy
    // list is kept, and loopback added to it.
    const std::string dead = "http://127.0.0.1:1";
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    for (const std::string name : {"http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "no_proxy", "NO_PROXY"}) {
        const char* v = std::getenv(name.c_str());
        saved.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
        ::setenv(name.c_str(), name == "no_proxy" || name == "NO_PROXY" ? "example.invalid" : dead.c_str(), 1);
    }
    std::map<std::uint64_t, HttpResult> results;
    {
        HttpEngine engine(fast_options());
        results = fetch_all(engine, {server.url(tile), "http://localhost:" + std::to_string(server.port()) + tile});
    }
    for (const auto& [name, value] : saved) {
        if (value) ::setenv(name.c_str(), value->c_str(), 1);
        else ::unsetenv(name.c_str());
    }
    REQUIRE(results.size() == 2);
    for (const auto& [id, r] : results) {
        INFO(r.error);
        CHECK(r.ok);
        CHECK(r.attempts == 1);
    }
}

TEST_CASE("timeouts are retried and then reported") {
    const auto server = start_server();
    auto o = fast_options();
    o.timeout_s = 0.3;
    o.max_attempts = 2;
    HttpEngine engine(o);
    const auto results = fetch_all(engine, {server.url("/f/slow-1000/9" + tile), server.url("/f/slow-1000/1" + tile)});
    CHECK_FALSE(results.at(0).ok);
    CHECK(results.at(0).error.find("Timeout was reached") != std::string::npos);
    CHECK(results.at(0).attempts == 2);
    CHECK(results.at(1).ok);
}

TEST_CASE("the on-disk cache serves a second run without the network") {
    const auto server = start_server();
    const auto dir = fresh_dir("http_cache");
    auto o = fast_options();
    o.cache_dir = dir;
    {
        HttpEngine engine(o);
        const auto r = fetch_all(engine, {server.url(tile), server.url("/f/html/99" + tile)});
        CHECK(r.at(0).ok);
        CHECK_FALSE(r.at(1).ok);
    }
    HttpEngine engine(o);
    const auto r = fetch_all(engine, {server.url(tile)});
    CHECK(r.at(0).ok);
    CHECK(r.at(0).from_cache);
    CHECK(engine.stats().requests == 0);
    const auto stats = nlohmann::json::parse(http_get(server.url("/stats")));
    CHECK(stats["hits"][tile].get<int>() == 1);
}
