#pragma once
// What the pipeline suites share: Monaco's catalog and a 0.5 m rendering of it
// (tests/render_osm_raster.sh), made once per test binary, and the bare command on it.

#include "test_support.hpp"

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace skyscript::test {

inline const std::string monaco_box = "7.405,43.723,7.44,43.753";

struct Rendering {
    std::string dir, catalog, raster, sources;
};

const Rendering& monaco();
// z17 XYZ tiles (PNG) of the rendering, made once by gdal2tiles (GDAL's own tiler): DIR/{z}/{x}/{y}.png.
const std::string& rendering_tiles();

// skyscript-build MONACO.osm.pbf -o OUT --sources (the rendering) EXTRA, bounded by `timeout`.
CommandResult build(const std::string& out, const std::string& extra);

// Every file under OUT's part folders with its bytes, and the CSV and meta.jsonl: two builds compared whole.
std::map<std::string, std::string> dataset_files(const std::string& out);

// Starts argv (argv[0] a path) with stdout and stderr to /dev/null; returns its pid.
pid_t start_process(const std::vector<std::string>& argv);

// Starts argv (argv[0] a path), kills it with SIGKILL after `delay` unless it ended first;
// returns its exit code, or minus the signal that ended it.
int run_and_kill(const std::vector<std::string>& argv, std::chrono::milliseconds delay);

} // namespace skyscript::test
