// bench/captions: single and multi captions per second on one core, for the tag sets
// of a real catalog (every object's groundable tags; 5 to 12 other catalog objects as
// its surroundings). Goal: >= 1 M single captions/s; the ratio to it is printed.
//
//   bench-captions CATALOG.gpkg

#include "captions/captioner.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace skyscript::captions;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CATALOG.gpkg\n", argv[0]);
        return 2;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "bench-captions: %s: cannot open\n", argv[1]);
        return 1;
    }
    // Own the strings, then point tags into them.
    std::vector<std::vector<std::pair<std::string, std::string>>> owned;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT tags FROM objects", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
        auto& obj = owned.emplace_back();
        const auto tags = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
        for (const auto& [k, v] : tags.items()) obj.emplace_back(k, v.get<std::string>());
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (owned.empty()) {
        std::fprintf(stderr, "bench-captions: %s: no objects\n", argv[1]);
        return 1;
    }
    std::vector<std::vector<Tag>> objects;
    for (const auto& o : owned) {
        auto& tags = objects.emplace_back();
        for (const auto& [k, v] : o) tags.push_back({k, v});
    }
    std::mt19937 rng(7);
    std::vector<std::vector<TagSet>> around(objects.size());
    for (auto& a : around) {
        const int n = 5 + static_cast<int>(rng() % 8);
        for (int i = 0; i < n; ++i) a.push_back(objects[rng() % objects.size()]);
    }

    const Captioner captioner;
    using clock = std::chrono::steady_clock;
    std::size_t bytes = 0;
    auto measure = [&](auto&& one, double min_seconds) {
        std::size_t count = 0;
        const auto start = clock::now();
        double elapsed = 0;
        while (elapsed < min_seconds) {
            for (std::size_t i = 0; i < objects.size(); ++i) bytes += one(i).size();
            count += objects.size();
            elapsed = std::chrono::duration<double>(clock::now() - start).count();
        }
        return count / elapsed;
    };
    const double single = measure([&](std::size_t i) { return captioner.title(objects[i]); }, 2.0);
    const double multi = measure([&](std::size_t i) { return captioner.title_multi_objects(objects[i], around[i]); }, 2.0);
    std::printf("bench/captions: %zu real tag sets from %s, one core\n", objects.size(), argv[1]);
    std::printf("  title               %12.0f captions/s   goal 1000000/s   ratio to goal %.2f\n", single, single / 1e6);
    std::printf("  title_multi_objects %12.0f captions/s   (5-12 surrounding objects each)\n", multi);
    std::printf("  (checksum %zu bytes)\n", bytes);
    return 0;
}
