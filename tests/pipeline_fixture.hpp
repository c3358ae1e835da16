#pragma once
// What the pipeline suites share: Monaco's catalog and a 0.5 m rendering of it
// (tests/render_osm_raster.sh), made once for all suites (shared_dir), and the bare command on it.

#include "test_support.hpp"

#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <random>
#include <set>
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

// Starts argv (argv[0] a path) with stdout to /dev/null and stderr to `stderr_path`; returns its pid.
pid_t start_process(const std::vector<std::string>& argv, const std::string& stderr_path);
// Waits for a child; its exit code, or minus the signal that ended it.
int wait_process(pid_t pid);
// Polls `ready` (every millisecond; an exception counts as not ready) while child `pid` runs, and
// sends it `signal` as soon as `ready` is true (SIGKILL after `limit`, or when it has not ended
// 30 s after `signal`). Its end, as wait_process.
int kill_when(pid_t pid, const std::function<bool()>& ready, std::chrono::seconds limit = std::chrono::seconds(120), int signal = SIGKILL);
// Whether process `pid` holds `path` open now (/proc/PID/fd): what it is working on.
bool holds_open(pid_t pid, const std::string& path);

// Where a build on OUT stands, read from its state DB: stage -> "finished_at|seconds" of the
// stages table (empty when there is no state DB yet). A stage whose row differs from an earlier
// reading finished again since (fetch, write, split and report rerun on every run).
std::map<std::string, std::string> stage_rows(const std::string& out);
// The stage a run that was SIGKILLed had been in, from OUT after the kill and `before` (stage_rows
// when it started): the first of extract, plan (finished once) and fetch, write, split, report (finished
// again by every run) that is not; "" when every one was (the run was past its work).
std::string stage_at_kill(const std::string& out, const std::map<std::string, std::string>& before);

// A kill in a chosen stage of the bare command on OUT. Once the run is seen working in `stage`
// (extract: it holds catalog.gpkg.partial open; plan: catalog.gpkg; fetch: it wrote new images;
// write, split, report: the stage before finished in this run) it is SIGKILLed after a random
// delay of up to `share` of the stage's length in an uninterrupted build (`seconds`; fetch: after a
// random number of new images). Then the stage it was in is read from OUT (stage_at_kill).
struct StageKill {
    std::string landed; // the stage it was killed in; "" when it was not killed (it ended first, or was not started: extract or plan already done, nothing planned to fetch)
    int end = 0;        // wait_process's value
};
StageKill kill_in_stage(const std::vector<std::string>& argv, const std::string& out, const std::string& stage, std::mt19937& rng,
                        const std::map<std::string, double>& seconds, double share = 0.6);
// A merge (argv: skyscript-build merge OUT SHARD_DIR...) SIGKILLed at a moment of its work:
// "state DB" (it holds OUT/state.sqlite.merging open: the merged state DB is being built),
// "images" (it placed `images` more images in OUT) or "stages" (the write stage over the whole
// finished in this run: split and report follow). `landed`: killed, and OUT shows a merge under
// way (the temporary state DB, or the merged one without the merge's last record).
struct MergeKill {
    bool landed = false;
    int end = 0; // wait_process's value
};
MergeKill kill_merge(const std::vector<std::string>& argv, const std::string& out, const std::string& moment, std::size_t images = 1);
// The merge in OUT finished: its stage row is the one merge writes last (with the image count).
bool merge_finished(const std::string& out);

// Each stage's length in seconds in a finished build (its stages table).
std::map<std::string, double> stage_seconds(const std::string& out);

// Every regular file under `dir`, as paths relative to it.
std::set<std::string> file_list(const std::string& dir);
// The names a killed or stopped run leaves for the next run to clear: NAME.partial-PID-N
// (pipeline/common/atomic_file.cpp, placed_file.cpp), catalog.gpkg.partial[.boxes|-journal]
// (catalog_gpkg.cpp, extract_stage.cpp), state.sqlite.merging (merge/merged_state.cpp),
// scratch-PID-N.tmp (osm/scratch_file.cpp), KEY.tmpPID (imagery/http_engine.cpp's cache) and
// SQLite's rollback journal NAME-journal.
bool is_temporary_name(const std::string& relative_path);
// Every row of a table of a SQLite file, each column quote()d, in rowid order.
std::vector<std::string> table_rows(const std::string& db_path, const std::string& table);
// report.json without what differs from run to run (when, how long, each run's own counts).
std::string comparable_report_json(const std::string& path);
// report.html without the same (OUT's path, times, the stages table).
std::string comparable_report_html(const std::string& path, const std::string& out);

// Two builds of the same options compared whole, every file: the same file list and no
// temporary file; images, meta pickles, meta.jsonl, every CSV, WebDataset tars and sizes
// byte for byte; report.json and report.html but for what differs from run to run; the
// state DB's tables (stages: the names) and the catalog's objects row for row. The
// uninterrupted build must have at least one file of each kind. Compare::merged: `got` is a
// merge of shards of `expected`'s options: its options, stages and report's record of them are
// a merge's, not compared (jobs and skip reasons are).
enum class Compare { whole, merged };
void check_same_build(const std::string& got, const std::string& expected, Compare how = Compare::whole);

} // namespace skyscript::test
