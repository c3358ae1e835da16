#include "pipeline_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace skyscript::test {

namespace fs = std::filesystem;

const Rendering& monaco() {
    static const Rendering r = [] {
        Rendering m;
        m.dir = fresh_dir("pipeline-monaco-" + std::to_string(::getpid())); // one per suite: suites run in parallel
        REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q -o " + sh_quote(m.dir)).exit_code == 0);
        m.catalog = m.dir + "/catalog.gpkg";
        m.raster = m.dir + "/render.tif";
        const auto render = run(sh_quote(source_dir() + "/tests/render_osm_raster.sh") + " " + sh_quote(m.catalog) + " " +
                                sh_quote(m.raster) + " " + monaco_box + " 0.5");
        REQUIRE_MESSAGE(render.exit_code == 0, render.err);
        m.sources = m.dir + "/sources.toml";
        write_file(m.sources, "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2021\n");
        return m;
    }();
    return r;
}

const std::string& rendering_tiles() {
    static const std::string dir = [] {
        const auto d = fresh_dir("pipeline-xyz-tiles-" + std::to_string(::getpid()));
        const auto tiles = run("gdal2tiles.py -q --xyz -z 17 --processes=2 -r bilinear " + sh_quote(monaco().raster) + " " + sh_quote(d));
        REQUIRE_MESSAGE(tiles.exit_code == 0, tiles.err);
        return d;
    }();
    return dir;
}

CommandResult build(const std::string& out, const std::string& extra) {
    return run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) +
               " --sources " + sh_quote(monaco().sources) + " " + extra);
}

std::map<std::string, std::string> dataset_files(const std::string& out) {
    std::map<std::string, std::string> files;
    for (const auto& dir : fs::directory_iterator(out)) {
        const auto name = dir.path().filename().string();
        if (!dir.is_directory() || !(name.starts_with("images") || name.starts_with("meta"))) continue;
        for (const auto& f : fs::directory_iterator(dir.path())) files[name + "/" + f.path().filename().string()] = read_file(f.path().string());
    }
    for (const char* f : {"SkyScript_train_unfiltered.csv", "meta.jsonl"}) files[f] = read_file(out + "/" + f);
    return files;
}

pid_t start_process(const std::vector<std::string>& argv) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

int run_and_kill(const std::vector<std::string>& argv, std::chrono::milliseconds delay) {
    const pid_t pid = start_process(argv);
    const auto deadline = std::chrono::steady_clock::now() + delay;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

} // namespace skyscript::test
