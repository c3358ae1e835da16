// bench/polish: the polish stage (`skyscript-build polish OUT`, issue 23) on the demo build
// (all of Monaco on a 0.5 m rendering of its own OSM data, as `make demo` makes it) against the
// loopback OpenAI-compatible test server (tests/openai_test_server.py) with a fixed latency per
// request and faithful answers. Anchors measured in the same run:
//   - requests per image against distinct inputs ÷ images (two inputs an image: title,
//     title_multi_objects): one request per distinct input is the least a polisher that
//     checks what it asks can do (goal: equal);
//   - requests per second against curl's own parallel transfers (`curl --parallel
//     --parallel-max N`, one keep-alive client with N in flight, nothing else to do) sending
//     as many chat-completions requests to the same server: what that server answers at N in
//     flight (goal >= 0.9). The bound --llm-in-flight ÷ latency is printed beside it; the test
//     server's own time per answer (Python, one interpreter lock) keeps both below it.
// Then the same command again: every answer from the cache, no request (the rerun's cost).
//
//   bench-polish [--latency-ms 200] [--in-flight 16]

#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

using namespace skyscript;
using Clock = std::chrono::steady_clock;

namespace {

void require(const test::CommandResult& r, const std::string& what) { test::exit_unless_ok(r, "bench/polish", what); }

} // namespace

int main(int argc, char** argv) {
    double latency_ms = 200;
    int in_flight = 16;
    for (int i = 1; i < argc; ++i) {
        if (i + 1 < argc && !std::strcmp(argv[i], "--latency-ms")) latency_ms = std::atof(argv[++i]);
        else if (i + 1 < argc && !std::strcmp(argv[i], "--in-flight")) in_flight = std::atoi(argv[++i]);
    }
    const std::string root = test::source_dir(), bin = std::string(SKYSCRIPT_BUILD_DIR) + "/skyscript-build";
    const auto work = test::fresh_dir("bench_polish");
    const auto pbf = test::sh_quote(root + "/tests/data/osm/monaco-latest.osm.pbf");
    // The demo build: a rendering of Monaco's catalog as imagery, then every stage.
    require(test::run(bin + " extract -q " + pbf + " -o " + test::sh_quote(work + "/render")), "extract for the rendering");
    require(test::run(test::sh_quote(root + "/tests/render_osm_raster.sh") + " " + test::sh_quote(work + "/render/catalog.gpkg") + " " +
                      test::sh_quote(work + "/render.tif") + " 7.405,43.723,7.44,43.753 0.5"),
            "rendering");
    test::write_file(work + "/sources.toml", "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + work + "/render.tif\"\nyear = 2021\n");
    const std::string out = work + "/out";
    require(test::run(bin + " -q " + pbf + " -o " + test::sh_quote(out) + " --sources " + test::sh_quote(work + "/sources.toml")), "the demo build");
    const auto db = out + "/state.sqlite";
    const auto images = test::sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'");
    // Distinct inputs as the build's captions give them: (caption, focus tags) for title,
    // (caption, focus tags, surroundings) for title_multi_objects; an upper bound on what the
    // stage asks (its prompt names the surroundings the caption names, not all of them).
    const auto distinct_titles = test::sql_int(db, "SELECT count(*) FROM (SELECT DISTINCT title, center_tags FROM jobs WHERE status = 'written')");
    const auto distinct_multi = test::sql_int(db, "SELECT count(*) FROM (SELECT DISTINCT title_multi_objects FROM jobs WHERE status = 'written')");

    test::ServerProcess server({"/usr/bin/python3", root + "/tests/openai_test_server.py", "--log", work + "/requests.log", "--latency",
                                std::to_string(latency_ms / 1000)});
    const auto command = "OPENAI_API_KEY=bench-key " + bin + " polish " + test::sh_quote(out) + " --llm-endpoint " + server.url("/v1") +
                         " --llm-model bench-model --llm-in-flight " + std::to_string(in_flight);
    auto start = Clock::now();
    const auto first = test::run(command);
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    require(first, "polish");
    const auto record = nlohmann::json::parse(test::sql_column(db, "SELECT summary FROM stages WHERE stage = 'polish'")[0]);
    const double seconds = std::stod(test::sql_column(db, "SELECT seconds FROM stages WHERE stage = 'polish'")[0]);
    const std::int64_t distinct = record["distinct_inputs"], requests = record["requests"];

    start = Clock::now();
    const auto again = test::run(command);
    const double rerun = std::chrono::duration<double>(Clock::now() - start).count();
    require(again, "polish again");
    const auto record2 = nlohmann::json::parse(test::sql_column(db, "SELECT summary FROM stages WHERE stage = 'polish'")[0]);

    // The anchor: curl's parallel transfers, the same number of requests, one body of the build's prompt size.
    const auto body = work + "/body.json";
    test::write_file(body, nlohmann::json{{"model", "bench-model"},
                                          {"messages", {{{"role", "user"}, {"content", "Caption: a satellite image of building, surrounded by road of residential; "
                                                                                      "building\nTags of the main object: building=yes\n" + std::string(400, 'x')}}}},
                                          {"temperature", 0},
                                          {"max_tokens", 160}}
                               .dump());
    std::string config;
    for (std::int64_t i = 0; i < requests; ++i) config += "url = \"" + server.url("/v1/chat/completions") + "\"\noutput = \"/dev/null\"\n";
    test::write_file(work + "/curl.cfg", config);
    start = Clock::now();
    require(test::run("curl -sS --fail --parallel --parallel-max " + std::to_string(in_flight) + " -H 'Content-Type: application/json' --data-binary @" +
                      test::sh_quote(body) + " -K " + test::sh_quote(work + "/curl.cfg")),
            "curl --parallel");
    const double curl_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double curl_rate = double(requests) / curl_seconds;

    const double ceiling = in_flight / (latency_ms / 1000); // requests/s
    const double rate = double(requests) / seconds;
    const double per_image = double(requests) / double(images), least = double(distinct) / double(images);
    std::printf("bench/polish: skyscript-build polish on the demo build (%lld images of Monaco), loopback OpenAI-compatible server,\n"
                "  %.0f ms per request, --llm-in-flight %d\n",
                static_cast<long long>(images), latency_ms, in_flight);
    std::printf("  inputs           %8lld distinct of %lld captions (%lld distinct titles, %lld distinct title_multi_objects)\n",
                static_cast<long long>(distinct), static_cast<long long>(2 * images), static_cast<long long>(distinct_titles),
                static_cast<long long>(distinct_multi));
    std::printf("  requests/image   %8.3f          (%lld requests; anchor: distinct inputs / images = %.3f, ratio %.2f; goal 1.00)\n", per_image,
                static_cast<long long>(requests), least, per_image / least);
    std::printf("  requests/s       %8.1f          (%.1f s stage, %.1f s with the process)\n", rate, seconds, wall);
    std::printf("  anchor: curl     %8.1f          (curl --parallel --parallel-max %d, %lld requests in %.1f s): ratio %.2f   (goal >= 0.90)\n", curl_rate,
                in_flight, static_cast<long long>(requests), curl_seconds, rate / curl_rate);
    std::printf("  bound            %8.1f          (in-flight / latency; polish %.2f of it, curl %.2f)\n", ceiling, rate / ceiling, curl_rate / ceiling);
    std::printf("  images/s         %8.1f          (%.1f requests an image saved by sharing: %.0f%% of one request an input)\n", double(images) / seconds,
                2.0 - per_image, 100.0 * double(requests) / double(2 * images));
    std::printf("  rerun            %8.2f s        (%lld requests, %lld of %lld inputs from the cache)\n", rerun,
                static_cast<long long>(record2["requests"].get<std::int64_t>()), static_cast<long long>(record2["cache_hits"].get<std::int64_t>()),
                static_cast<long long>(record2["distinct_inputs"].get<std::int64_t>()));
    return requests == distinct && record2["requests"] == 0 ? 0 : 1;
}
