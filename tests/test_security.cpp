// Secrets stay out of a build's outputs (issue 18, point 9). Two real builds with failing
// tiles (so failure reasons get written): an xyz source whose URL carries user:password@
// in its authority and access_token/key/sig in its query, on the fault server
// (tests/faults/fault_server.py), and an Earth Engine source on the loopback fake whose
// service-account key is refused mid-run. Every file under OUT (raw bytes, and the state DB
// as `sqlite3 .dump` text) and everything the commands printed is searched for the token,
// the password, the other query secrets, the private key's PEM body, the Earth Engine
// access tokens and the key file's path: none may appear. Every file under OUT must also
// have a name built only from ids, aliases and counters.

#include "measured_run.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include <unistd.h>

using namespace skyscript::test;
namespace fs = std::filesystem;

namespace {

const std::string token = "SECRET-TOKEN-123", password = "PASSWORD-XYZ-789", query_key = "SECRETKEY456", query_sig = "SECRETSIG789";

// The longest run of base64 letters and digits in the PEM body: a distinctive piece of the
// private key however a writer escapes '/' and '+'.
std::string pem_needle(const std::string& pem_path) {
    std::string best, cur;
    for (const auto& line : lines(read_file(pem_path))) {
        if (line.rfind("-----", 0) == 0) continue;
        for (char c : line + "\n") {
            if (std::isalnum(static_cast<unsigned char>(c))) cur += c;
            else {
                if (cur.size() > best.size()) best = cur;
                cur.clear();
            }
        }
    }
    return best;
}

struct Needle {
    std::string what, text;
};

// Where any needle appears in `text` (named `where`), one line each.
std::vector<std::string> leaks(const std::string& where, const std::string& text, const std::vector<Needle>& needles) {
    std::vector<std::string> found;
    for (const auto& n : needles)
        if (const auto at = text.find(n.text); at != std::string::npos) {
            const auto from = at > 60 ? at - 60 : 0;
            std::string context = text.substr(from, 60 + n.text.size() + 60);
            for (auto& c : context)
                if (!std::isprint(static_cast<unsigned char>(c))) c = '.';
            found.push_back(where + ": the " + n.what + " (..." + context + "...)");
        }
    return found;
}

// Names a build may give its files: fixed names, and names made of ids, aliases
// ([A-Za-z0-9]{1,8}) and counters.
bool allowed_name(const std::string& rel) {
    static const std::regex stem("[nwa][0-9]+r?_[A-Za-z0-9]{1,8}_[0-9]{2}");
    static const std::vector<std::regex> patterns = {
        std::regex("(state\\.sqlite|catalog\\.gpkg)(-wal|-shm|-journal)?"),
        std::regex("report\\.(json|html)|meta\\.jsonl"),
        std::regex("README\\.md|croissant\\.json"), // the dataset card (issue 24)
        std::regex("SkyScript_(train_unfiltered|val|test)\\.csv"),
        std::regex("images[0-9]+/[nwa][0-9]+r?_[A-Za-z0-9]{1,8}_[0-9]{2}\\.jpg"),
        std::regex("meta[0-9]+/[nwa][0-9]+r?_[A-Za-z0-9]{1,8}_[0-9]{2}\\.pickle"),
        std::regex("webdataset/(train|val|test)/[0-9]{5}\\.tar"),
        std::regex("webdataset/((train|val|test)/)?(sizes|stats)\\.json"),
        std::regex("build\\.lock"), // one build per OUT (issue 18, point 4)
    };
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::regex& p) { return std::regex_match(rel, p); });
}

// Monaco's catalog, extracted once (the builds take it with --catalog), and one flat PNG
// tile the fault server answers for every tile path: what the pixels are does not matter here.
struct Inputs {
    std::string catalog, tile;
};
const Inputs& inputs() {
    static const Inputs i = [] {
        Inputs r;
        const auto dir = fresh_dir("security-inputs-" + std::to_string(::getpid()));
        const auto x = run(sh_quote(binary()) + " extract -q " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir));
        REQUIRE_MESSAGE(x.exit_code == 0, x.err);
        r.catalog = dir + "/catalog.gpkg";
        r.tile = dir + "/tile.png";
        const auto png = run("/usr/bin/python3 -c " + sh_quote("import sys; from PIL import Image; Image.new('RGB', (256, 256), (120, 140, 90)).save(sys.argv[1])") +
                             " " + sh_quote(r.tile));
        REQUIRE_MESSAGE(png.exit_code == 0, png.err);
        return r;
    }();
    return i;
}

struct SecretBuild {
    std::string name, out;
    MeasuredRun run;
};

} // namespace

TEST_CASE("no secret reaches any output, and every output path is made of ids, aliases and counters") {
    const auto& in = inputs();
    const auto dir = fresh_dir("security");
    // xyz: a fifth of the tiles always answered 503, so reasons (which name the tile) are written.
    ServerProcess tiles({"/usr/bin/python3", source_dir() + "/tests/faults/fault_server.py", "--any", in.tile, "--schedule", "503:0,ok,ok,ok,ok"});
    const auto authority = "http://reader:" + password + "@127.0.0.1:" + std::to_string(tiles.port());
    write_file(dir + "/xyz.toml",
               "[[source]]\nalias = \"TOK\"\nkind = \"xyz\"\nurl = \"" + authority + "/{z}/{x}/{y}.png?access_token=" + token +
                   "\"\ngsd = 0.6\nmax_zoom = 17\nyear = 2021\ncoverage = [7.41, 43.727, 7.435, 43.75]\n\n"
                   "[[source]]\nalias = \"SIG\"\nkind = \"xyz\"\nurl = \"" + tiles.url("/{z}/{x}/{y}.png?key=" + query_key + "&sig=" + query_sig) +
                   "\"\ngsd = 0.6\nmax_zoom = 17\nyear = 2021\ncoverage = [7.41, 43.727, 7.435, 43.75]\n");

    // Earth Engine: one request at a time, 250 ms each; tokens die 1.5 s after they are issued
    // and the key is refused after the first, so the tiles asked for after that fail with
    // the key's message.
    const auto key_dir = dir + "/keys-4242";
    fs::create_directories(key_dir);
    const auto key = make_rsa_key(key_dir, "signing");
    const std::string email = "builder@sky-test.iam.gserviceaccount.com";
    ServerProcess fake({"/usr/bin/python3", source_dir() + "/tests/earthengine_fake_server.py", "--public-key", key.public_pem, "--client-email",
                        email, "--flat-png", "--token-valid-s", "1.5", "--max-tokens", "1", "--latency-ms", "250"});
    const auto key_file = write_service_account_key(key_dir + "/sa-key-4242.json", key.private_pem, email, fake.url("/token"), "sky-test");
    write_file(dir + "/ee.toml", "[[source]]\nalias = \"EE\"\nkind = \"earthengine\"\ncollection = \"COPERNICUS/S2_SR_HARMONIZED\"\n"
                                 "project = \"sky-test\"\nendpoint = \"" + fake.url("") + "\"\ngsd = 0.5\nbands = [\"B4\", \"B3\", \"B2\"]\n"
                                 "stretch = [0, 255]\ncoverage = [7.41, 43.727, 7.435, 43.75]\nmax_in_flight = 1\n");

    std::vector<SecretBuild> builds(2);
    builds[0].name = "xyz";
    builds[1].name = "earthengine";
    std::vector<std::thread> threads;
    for (auto& b : builds) {
        b.out = dir + "/out-" + b.name;
        threads.emplace_back([&, &b = b] {
            const bool ee = b.name == "earthengine";
            b.run = run_measured({binary(), data("osm/monaco-latest.osm.pbf"), "-o", b.out, "--sources", dir + (ee ? "/ee.toml" : "/xyz.toml"),
                                  "--catalog", in.catalog, "--limit", "30", "--seed", "9", "--source-policy", "all", "--timeout", "5",
                                  "--attempts", "1", "--format", "both", "--split-block", "0.005"},
                                 {"GOOGLE_APPLICATION_CREDENTIALS=" + key_file}, 35);
        });
    }
    for (auto& t : threads) t.join();

    const std::vector<Needle> needles = {{"xyz access_token", token},       {"xyz password", password},
                                         {"xyz key= secret", query_key},   {"xyz sig= secret", query_sig},
                                         {"private key (PEM body)", pem_needle(key.private_pem)},
                                         {"Earth Engine access token", "ya29."},
                                         {"key file's path", key_file},    {"key file's name", "sa-key-4242"}};
    REQUIRE(needles[4].text.size() >= 16);
    for (const auto& b : builds) {
        INFO(b.name << " (exit " << b.run.exit_code << ", " << b.run.seconds << " s)\nstdout: " << b.run.out << "\nstderr: " << b.run.err);
        REQUIRE_FALSE(b.run.timed_out);
        REQUIRE(fs::exists(b.out + "/state.sqlite"));
        const auto db = b.out + "/state.sqlite";
        // The cases this test needs: some images, and failures with their reasons.
        CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'written'") > 0);
        CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE status = 'failed' AND reason != ''") > 0);
        if (b.name == "xyz") CHECK(sql_int(db, "SELECT count(DISTINCT source) FROM jobs WHERE status = 'written'") == 2);
        if (b.name == "earthengine") CHECK(sql_int(db, "SELECT count(*) FROM jobs WHERE reason LIKE '%refused the service-account key%'") > 0);

        std::vector<std::string> found;
        auto add = [&](const std::vector<std::string>& more) { found.insert(found.end(), more.begin(), more.end()); };
        add(leaks(b.name + " stdout", b.run.out, needles));
        add(leaks(b.name + " stderr", b.run.err, needles));
        const auto dump = run("sqlite3 " + sh_quote(db) + " .dump");
        REQUIRE(dump.exit_code == 0);
        REQUIRE(dump.out.find("CREATE TABLE") != std::string::npos);
        add(leaks(b.name + " state.sqlite (.dump)", dump.out, needles));
        const auto status = run(sh_quote(binary()) + " status " + sh_quote(b.out) + " --json");
        add(leaks(b.name + " status --json", status.out + status.err, needles));
        std::size_t files = 0;
        std::set<std::string> kinds;
        for (const auto& e : fs::recursive_directory_iterator(b.out)) {
            if (!e.is_regular_file()) continue;
            ++files;
            const auto rel = fs::relative(e.path(), b.out).string();
            kinds.insert(e.path().extension().string());
            add(leaks(b.name + " " + rel, read_file(e.path().string()), needles));
            CHECK_MESSAGE(allowed_name(rel), b.name << ": output path " << rel << " is not made of ids, aliases and counters");
        }
        // What was searched: every kind of output the brief names.
        for (const char* ext : {".sqlite", ".json", ".html", ".pickle", ".jsonl", ".csv", ".tar", ".jpg"})
            CHECK_MESSAGE(kinds.count(ext), b.name << ": no " << ext << " file was written to search");
        MESSAGE(b.name << ": searched " << files << " files under OUT, the state DB's dump and the logs for " << needles.size() << " secrets");
        for (const auto& f : found) FAIL_CHECK(f);
        CHECK(found.empty());
    }
}
