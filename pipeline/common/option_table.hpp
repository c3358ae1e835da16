#pragma once
// Every option of a build, one row each: its name (the long flag, also the TOML key, `-` or
// `_`), type, default, the stage whose finished work it changes ("" for options that only
// steer a run: --quiet, --in-flight), --help line and range. A constexpr table, so that a
// name the code reads is checked when it compiles (OptionName): a mistyped name is a build
// error, never a silent "".

#include <iterator>
#include <limits>
#include <string_view>

namespace skyscript::pipeline {

// path: a file (or folder) given by name, made absolute as it is given (build_options.hpp).
enum class OptionType { text, integer, number, flag, path };

struct OptionRow {
    std::string_view name;
    OptionType type;
    std::string_view default_value; // "" = unset
    std::string_view stage;         // extract | plan | fetch | write | split | "" (run only)
    std::string_view help;          // one line for --help ("" = not a flag: set from the positional INPUT)
    char short_name;
    bool repeatable;                // given several times: the values joined by newlines
    // Numbers (integer, number): the accepted range, min..max inclusive, min excluded when
    // `above_min` (e.g. --timeout > 0). NaN and infinity never pass.
    double min, max;
    bool above_min;
    std::string_view range_note;    // what an edge value means, for the error: "0: all"
    std::string_view word;          // a number option that also takes this word ("auto")

    // A constructor, not an aggregate: the rows leave out their trailing defaults.
    constexpr OptionRow(std::string_view name, OptionType type, std::string_view default_value, std::string_view stage, std::string_view help,
                        char short_name = 0, bool repeatable = false, double min = -std::numeric_limits<double>::infinity(),
                        double max = std::numeric_limits<double>::infinity(), bool above_min = false, std::string_view range_note = {},
                        std::string_view word = {})
        : name(name), type(type), default_value(default_value), stage(stage), help(help), short_name(short_name), repeatable(repeatable),
          min(min), max(max), above_min(above_min), range_note(range_note), word(word) {}
};

namespace option_limits {
inline constexpr double inf = std::numeric_limits<double>::infinity();
// Pixel sides: below 16 a tile shows nothing, above 8192 one tile's pixels take 200 MB.
inline constexpr double px_min = 16, px_max = 8192;
} // namespace option_limits

// Listed by stage, as --help groups them: run-only options ("" stage) after the stage they steer.
inline constexpr OptionRow option_table[]{
    // run
    {"output", OptionType::text, "out", "", "output folder", 'o'},
    {"config", OptionType::text, "", "", "TOML file of options (keys = option names)"},
    {"quiet", OptionType::flag, "", "", "no progress and no summaries", 'q'},
    // extract (input, input-bytes and input-digest are set from the positional INPUT, not by flags)
    {"input", OptionType::text, "", "extract", ""},
    {"input-bytes", OptionType::text, "", "extract", ""},
    {"input-digest", OptionType::text, "", "extract", ""}, // input_fingerprint.hpp
    {"tags", OptionType::path, "", "extract", "tag list replacing the default vocabulary; +FILE adds to it"},
    {"hidden", OptionType::path, "", "extract", "rules for objects hidden from above (tunnels, ...) replacing the default; +FILE adds"},
    {"bbox", OptionType::text, "", "extract", "keep only objects intersecting W,S,E,N (degrees)"},
    {"polygon", OptionType::path, "", "extract", "keep only objects intersecting the polygons of a GeoJSON file"},
    {"node-index", OptionType::text, "auto", "", "node location index (see extract --help)"},
    {"read-sample", OptionType::text, "auto", "extract", "draw the sample as the extract reads, keep only what it needs: auto (inputs of 1 GiB or more), on, off"},
    {"tmp-dir", OptionType::text, "", "", "scratch: a file-backed node index, the rows of sampling in the read (default: OUT)"},
    {"threads", OptionType::integer, "0", "", "threads building ways and areas in the extract's second read, and placing the plan's jobs (0: one per core this process may use); the catalog and the jobs are the same whatever the count", 0, false, 0, 1024, false, "0: one per usable core"},
    {"force", OptionType::flag, "", "", "go on when the extract's pre-flight check says the run will not fit"},
    {"catalog", OptionType::path, "", "extract", "use this catalog.gpkg (made once by extract, on shared storage) instead of extracting INPUT"},
    // plan
    {"sources", OptionType::path, "", "plan", "imagery sources TOML, or `open` for the open STAC presets (default: SkyScript's ten Earth Engine collections)"},
    {"seed", OptionType::integer, "1", "plan", "seed of every random choice (sampling, sources, offsets, splits)"},
    {"limit", OptionType::integer, "0", "plan", "keep a reproducible subset of N sampled objects (0: all)", 0, false, 0, option_limits::inf, false, "0: all"},
    {"all-below", OptionType::integer, "200000", "plan", "inputs with at most N candidates take every candidate", 0, false, 0, option_limits::inf},
    {"cells", OptionType::integer, "400000", "plan", "larger inputs: sample N non-empty 0.01 degree cells", 0, false, 0, option_limits::inf, false,
     "0: rare-tag objects only"},
    {"rare-min", OptionType::integer, "50", "plan", "tags with fewer objects in the sample get objects from anywhere, up to N", 0, false, 0, option_limits::inf},
    {"max-per-tag", OptionType::integer, "50000", "plan", "at most N objects per focus tag (0: no cap)", 0, false, 0, option_limits::inf, false, "0: no cap"},
    {"source-policy", OptionType::text, "finest", "plan", "finest | random | all eligible sources per object (the first two: the others in order when one has no imagery)"},
    {"point-tile-px", OptionType::integer, "384", "plan", "tile side in pixels for points and lines", 0, false, option_limits::px_min, option_limits::px_max},
    {"min-px", OptionType::integer, "100", "plan", "areas: smallest tile side in pixels", 0, false, option_limits::px_min, option_limits::px_max},
    {"max-px", OptionType::integer, "1000", "plan", "areas: largest tile side in pixels", 0, false, option_limits::px_min, option_limits::px_max},
    {"margin", OptionType::number, "0.1", "plan", "areas: tile side = long side of the bbox x (1 + margin)", 0, false, 0, 10},
    {"offset", OptionType::number, "0.2", "plan", "random shift of the tile centre, at most this share of the side", 0, false, 0, 0.5},
    {"max-surrounding", OptionType::integer, "5", "plan", "surrounding objects named in title_multi_objects", 0, false, 0, 1000},
    {"min-visible-px", OptionType::text, "64,16", "plan", "AREA,LINE: a surrounding object is named only when this much of it is in the tile (px² of an area, px of a line; a point: in it)"},
    {"caption-style", OptionType::text, "rule", "plan", "rule | natural (adds title_natural, title_multi_objects_natural)"},
    {"quality", OptionType::integer, "90", "plan", "JPEG quality 1-100 (part of each tile's identity for --reuse)", 0, false, 1, 100},
    // The plan gives each job its part (1 + job id / N): changed after it, the folders no longer matched the record (red-team round 41).
    {"part-size", OptionType::integer, "1000000", "plan", "at most N images per imagesK/ and metaK/ folder", 0, false, 1, option_limits::inf},
    {"shard", OptionType::text, "", "plan", "i/N or auto: only worker i's 1/N of the jobs, by object hash (see merge --help)"},
    {"shard-count", OptionType::integer, "0", "", "N for --shard auto: the index (Slurm's task id, Kubernetes' completion index) of N (else SKYSCRIPT_SHARD_COUNT)", 0, false, 0, 1e5},
    // fetch
    {"min-valid", OptionType::number, "0.9", "fetch", "a tile needs at least this share of pixels with imagery", 0, false, 0, 1},
    {"reuse", OptionType::text, "", "", "take finished images of an earlier build OLD_OUT by tile (repeatable)", 0, true},
    {"in-flight", OptionType::integer, "32", "", "HTTP requests in flight", 0, false, 1, 4096},
    {"workers", OptionType::integer, "0", "", "pixel threads (0: one per core; xyz sources one fewer, for the HTTP engine)", 0, false, 0, 1024, false, "0: one per core"},
    {"batch", OptionType::integer, "0", "", "jobs fetched per batch (0: automatic); bounds memory", 0, false, 0, 1e7, false, "0: automatic"},
    {"timeout", OptionType::number, "60", "", "seconds per HTTP transfer", 0, false, 0, 86400, true},
    {"attempts", OptionType::integer, "5", "", "HTTP attempts per request before a job fails", 0, false, 1, 100},
    {"retry-failed", OptionType::flag, "", "", "retry the jobs that failed in an earlier run"},
    // polish (pipeline/polish/: one request per distinct input, answers cached in OUT)
    {"polish", OptionType::flag, "", "polish", "after write: language-polished captions from an OpenAI-compatible model (see polish --help)"},
    {"llm-endpoint", OptionType::text, "", "polish", "polish: base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1"},
    {"llm-model", OptionType::text, "", "polish", "polish: the model id every request names"},
    {"llm-key-env", OptionType::text, "OPENAI_API_KEY", "polish", "polish: environment variable holding the API key (read, never written)"},
    {"llm-prompt", OptionType::path, "", "polish", "polish: prompt template FILE with {caption} {tags} {surroundings} {gsd} (default: built in)"},
    {"llm-temperature", OptionType::number, "0", "polish", "polish: sampling temperature", 0, false, 0, 2},
    {"llm-max-tokens", OptionType::integer, "160", "polish", "polish: most tokens an answer may take", 0, false, 8, 100000},
    {"llm-in-flight", OptionType::integer, "8", "", "polish: requests in flight at the endpoint", 0, false, 1, 1024},
    {"llm-rps", OptionType::number, "0", "", "polish: requests a second at most (0: no limit)", 0, false, 0, 1e6, false, "0: no limit"},
    {"llm-tpm", OptionType::integer, "0", "", "polish: tokens a minute at most, prompt and answer (0: no limit)", 0, false, 0, 1e12, false, "0: no limit"},
    // split and benchmarks (pipeline/split/split_stage.hpp: made again from the state DB on every run)
    {"split-block", OptionType::number, "auto", "split",
     "spatial block of the train/val/test split, degrees; auto: 0.05, halved (to 0.001 at least) until val and test get 1/2 to all of their size",
     0, false, 1e-5, 180, false, "", "auto"},
    {"val-size", OptionType::text, "auto", "split", "val images: a count, P% or auto (min(5000, 2% rounded up))"},
    {"test-size", OptionType::text, "auto", "split", "test images: a count, P% or auto (min(30000, 10% rounded up))"},
    {"scores", OptionType::path, "", "split", "FILE[,NAME] of filepath,score rows: top-P% files with similarity_NAME"},
    {"top-pct", OptionType::text, "30,50", "split", "percentages of the best-scored train images kept by --scores"},
    {"format", OptionType::text, "files", "split", "files (CSVs) | webdataset (tar shards) | both | coco (CSVs and COCO annotations_{split}.json) | hf (CSVs and Hugging Face ImageFolder hf/{split}/) | all"},
    {"shard-size", OptionType::text, "10000", "split", "webdataset: samples a shard, or bytes (500MB, 2GB)"},
    {"per-class", OptionType::integer, "0", "benchmarks", "at most N images a class (0: all)", 0, false, 0, option_limits::inf, false, "0: all"},
};

// `-` and `_` spell the same option (TOML keys use either).
constexpr bool same_option_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
        if (x != y) return false;
    }
    return true;
}

// The row's index, -1 for none. Compile-time checks use the index: under UBSan (make asan)
// GCC cannot fold a row's address compared with nullptr.
constexpr int option_index(std::string_view name) noexcept {
    for (int i = 0; i < static_cast<int>(std::size(option_table)); ++i)
        if (same_option_name(option_table[i].name, name)) return i;
    return -1;
}

constexpr const OptionRow* find_option_row(std::string_view name) noexcept {
    const int i = option_index(name);
    return i < 0 ? nullptr : &option_table[i];
}

// The name of an option as the code reads it: checked against option_table when the code
// compiles (`options.text("sed")` does not build).
class OptionName {
public:
    consteval OptionName(const char* name) : name_(name) {
        if (option_index(name_) < 0) throw "not an option of option_table (pipeline/common/option_table.hpp)";
    }
    constexpr std::string_view view() const noexcept { return name_; }
    std::string str() const { return std::string(name_); }

private:
    std::string_view name_;
};

} // namespace skyscript::pipeline
