// bench/earthengine: a build's fetch stage (`skyscript-build fetch` on a planned OUT, the
// path the bare command takes) from an earthengine source at its default limits (40
// requests in flight, 100 requests/s) against the loopback fake of Earth Engine
// (tests/earthengine_fake_server.py) with 1 s added to every request and the project's
// default quota enforced by the fake (HTTP 429 beyond 40 concurrent or 100 a second).
// Within that quota a build can fetch at most 40 in flight / 1 s = 40 images/s, at one
// request per image. Prints images/s and its ratio to that (goal >= 0.9), requests per
// image (goal <= 1.05) and the 429s the fake answered (goal 0). The fake's pixels are a
// flat colour, so its own CPU is not what is measured. Fallback is on (issue 20): the
// finest source (NAIP's collection) has images in the south of Liechtenstein only, as a
// collection's real footprint does, so the jobs of the north are passed on to the next
// source (SkySat's collection, at the same GSD here) after its time lookup comes back empty.
//
//   bench-earthengine [--limit 2000] [--latency-ms 1000] [--no-fallback]   (plan's --limit: 990 tiles of Liechtenstein)
//
// --no-fallback: NAIP's collection has images everywhere (no job is passed on).

#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace skyscript;
using Clock = std::chrono::steady_clock;

namespace {

void require(const test::CommandResult& r, const std::string& what) { test::exit_unless_ok(r, "bench/earthengine", what); }

} // namespace

int main(int argc, char** argv) {
    int limit = 2000;
    double latency_ms = 1000;
    bool fallback = true;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--no-fallback")) fallback = false;
        else if (i + 1 < argc && !std::strcmp(argv[i], "--limit")) limit = std::atoi(argv[++i]);
        else if (i + 1 < argc && !std::strcmp(argv[i], "--latency-ms")) latency_ms = std::atof(argv[++i]);
    }
    const std::string root = test::source_dir(), bin = std::string(SKYSCRIPT_BUILD_DIR) + "/skyscript-build";
    const auto work = test::fresh_dir("bench_earthengine");
    const auto key = test::make_rsa_key(work, "key");
    // NAIP's collection has images south of 47.15 N only: about half of Liechtenstein's tiles.
    test::write_file(work + "/footprints.json", fallback ? R"({"USDA/NAIP/DOQQ": [[9.0, 46.5, 10.0, 47.15]]})" : "{}");
    const std::string email = "bench@sky-bench.iam.gserviceaccount.com";
    // The fake's defaults are Earth Engine's default quota: 40 concurrent, 100 requests/s.
    test::ServerProcess server({"python3", root + "/tests/earthengine_fake_server.py", "--public-key", key.public_pem, "--client-email",
                                email, "--flat-png", "--latency-ms", std::to_string(latency_ms), "--footprints", work + "/footprints.json"});
    const auto credentials = test::write_service_account_key(work + "/key.json", key.private_pem, email, server.url("/token"), "sky-bench");
    // The built-in NAIP source (0.6 m, R/G/B) at its default limits (no max_in_flight, no
    // requests_per_second), over Liechtenstein's tiles, and behind it SkySat's collection at
    // the same GSD, which the fake has everywhere: 0.6 m tiles of Liechtenstein are the
    // several hundred images this needs.
    std::string toml;
    for (const auto& [alias, collection] : {std::pair{"US", "USDA/NAIP/DOQQ"}, std::pair{"P3", "SKYSAT/GEN-A/PUBLIC/ORTHO/RGB"}})
        toml += std::string("[[source]]\nalias = \"") + alias + "\"\nkind = \"earthengine\"\ncollection = \"" + collection + "\"\nendpoint = \"" +
                server.url("") + "\"\ngsd = 0.6\nbands = [\"R\", \"G\", \"B\"]\nstretch = [0, 255]\ndates = [\"2002-01-01\", \"\"]\n";
    test::write_file(work + "/sources.toml", toml);
    const std::string out = work + "/out", sources = " --sources " + test::sh_quote(work + "/sources.toml");
    require(test::run(bin + " extract -q " + test::sh_quote(root + "/tests/data/osm/liechtenstein-2013-08-03.osm.pbf") + " -o " +
                      test::sh_quote(out)),
            "extract");
    require(test::run(bin + " plan -q " + test::sh_quote(out) + sources + " --limit " + std::to_string(limit)), "plan");
    const auto db = out + "/state.sqlite";
    const auto planned = test::sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'planned'");

    const auto start = Clock::now();
    const auto fetch = test::run("GOOGLE_APPLICATION_CREDENTIALS=" + test::sh_quote(credentials) + " " + bin + " fetch " +
                                 test::sh_quote(out) + sources);
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    require(fetch, "fetch");
    const auto fetched = test::sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'fetched'");
    const double stage_seconds = std::stod(test::sql_column(db, "SELECT seconds FROM stages WHERE stage = 'fetch'")[0]);
    const auto stats = nlohmann::json::parse(test::http_get(server.url("/stats")));
    const long long requests = stats["ee_requests"], pixels = stats["compute_pixels"], times = stats["value_compute"];
    const long long quota_429 = stats["quota_429"];
    const auto passed_on = test::sql_int(db, "SELECT count(*) FROM jobs WHERE tried != '[]'");

    const double ceiling = std::min(40.0 / (latency_ms / 1000), 100.0); // images/s the quota allows at one request each
    const double rate = double(fetched) / stage_seconds;
    const double per_image = fetched ? double(requests) / double(fetched) : 0;
    std::printf("bench/earthengine: skyscript-build fetch, %lld planned tiles (Liechtenstein, 0.6 m), earthengine source at its\n"
                "  default limits, loopback fake with %.0f ms per request and Earth Engine's default quota (40 concurrent, 100/s)\n",
                static_cast<long long>(planned), latency_ms);
    std::printf("  fetch stage      %8.1f images/s  (%lld fetched of %lld in %.1f s; %.1f s with the process)\n", rate,
                static_cast<long long>(fetched), static_cast<long long>(planned), stage_seconds, wall);
    std::printf("  ratio to %.0f images/s (the quota's ceiling at one request an image): %.2f   (goal >= 0.90)\n", ceiling, rate / ceiling);
    std::printf("  requests/image   %8.3f          (%lld computePixels + %lld value:compute + %lld refused = %lld; goal <= 1.05)\n",
                per_image, pixels, times, requests - pixels - times, requests);
    std::printf("  fallbacks        %8lld          (jobs NAIP had no image for, served by SkySat: %.0f%% of the images)\n",
                static_cast<long long>(passed_on), fetched ? 100.0 * double(passed_on) / double(fetched) : 0.0);
    std::printf("  HTTP 429         %8lld          (the fake's quota; goal 0), at most %d in progress at once\n", quota_429,
                stats["max_active"].get<int>());
    std::printf("  the fake's CPU   %8.2f s        (so it is not what bounds the rate)\n", stats["cpu_seconds"].get<double>());
    return fetched == planned && quota_429 == 0 && (passed_on > 0) == fallback ? 0 : 1;
}
