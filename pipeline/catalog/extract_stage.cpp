// The extract stage: PBF → OUT/catalog.gpkg (osm/ reads, catalog_gpkg writes).

#include "pipeline/catalog/extract_stage.hpp"

#include "osm/catalog_builder.hpp"
#include "osm/extractor.hpp"
#include "osm/node_id_range.hpp"
#include "osm/pbf_timestamp.hpp"
#include "pipeline/catalog/catalog_gpkg.hpp"
#include "pipeline/catalog/catalog_identity.hpp"
#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/catalog/shared_catalog.hpp"
#include "pipeline/common/option_refused.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/hidden_rules_file.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/region.hpp"
#include "pipeline/common/system_info.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "pipeline/common/text_file.hpp"
#include "pipeline/sample/read_sample.hpp"
#include "pipeline/tiles/tile_placement.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::pipeline {

namespace {

// A size: bytes, or a number with K, M, G or T (powers of 1024), e.g. 512M, 1.5G.
std::optional<std::uint64_t> parse_size(const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (v < 0) return std::nullopt;
    const std::string unit = text.substr(used);
    const std::string units = "KMGT";
    if (unit.empty()) return static_cast<std::uint64_t>(v);
    const auto k = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (k == std::string::npos || unit.size() > 2 || (unit.size() == 2 && std::toupper(static_cast<unsigned char>(unit[1])) != 'B'))
        return std::nullopt;
    return static_cast<std::uint64_t>(v * double(1ULL << (10 * (k + 1))));
}

// What this run may hold in memory, and why: MemAvailable, lowered by the address-space
// limit (ulimit -v, prlimit --as) less what the process maps already. SKYSCRIPT_MEMORY
// (bytes or 512M, 4G) replaces both, to see what a run would do on a smaller machine.
struct UsableMemory {
    std::uint64_t bytes = 0;
    std::string source; // "": unknown
    bool known() const { return !source.empty(); }
};

std::uint64_t mapped_now_bytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
    return 0;
}

UsableMemory usable_memory() {
    if (const char* env = std::getenv("SKYSCRIPT_MEMORY"); env && *env) {
        const auto v = parse_size(env);
        if (!v) throw UsageError(std::string("SKYSCRIPT_MEMORY: expected bytes or a size such as 512M or 4G, got `") + env + "`");
        return {*v, "SKYSCRIPT_MEMORY"};
    }
    UsableMemory m;
    if (const auto avail = available_memory_bytes()) m = {avail, "MemAvailable"};
    rlimit as{};
    if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
        // Address space, not memory: each thread's malloc arena reserves 64 MB of it (the
        // reader's decoders, its own thread, the catalog writer and this one).
        const std::uint64_t threads = static_cast<std::uint64_t>(usable_cores()) + 2;
        const std::uint64_t taken = mapped_now_bytes() + threads * (64ULL << 20);
        const std::uint64_t left = as.rlim_cur > taken ? as.rlim_cur - taken : 0;
        if (!m.known() || left < m.bytes) m = {left, "the address-space limit (ulimit -v) less what is mapped and the threads' malloc arenas"};
    }
    return m;
}

std::uint64_t device_of(const std::string& dir) {
    struct stat st {};
    return ::stat(dir.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_dev) : 0;
}

// A file-backed node index's size in --tmp-dir; 0 for one in memory.
std::uint64_t index_disk_bytes(const std::string& index, std::uint64_t input_bytes, std::uint64_t largest_id) {
    return osm::is_file_backed_index(index) ? osm::node_index_bytes(index, input_bytes, largest_id) : 0;
}

// The catalog (`catalog_disk` bytes) in OUT, with the node index when both share a disk.
std::optional<std::string> catalog_disk_problem(const ExtractRequest& req, const std::string& index, const std::string& scratch_dir,
                                                std::uint64_t index_disk, std::uint64_t catalog_disk) {
    const bool shared_disk = index_disk && device_of(scratch_dir) == device_of(req.out_dir);
    const auto free = free_disk_bytes(req.out_dir);
    if (!free || free >= catalog_disk + (shared_disk ? index_disk : 0)) return std::nullopt;
    std::string msg = "-o " + req.out_dir + ": the catalog needs about " + human_bytes(catalog_disk);
    if (shared_disk) msg += " and the " + index + " node index about " + human_bytes(index_disk) + " on the same disk";
    msg += " but it has " + human_bytes(free) + " free; use -o on a larger disk";
    if (shared_disk) msg += " or --tmp-dir DIR for the index on another";
    return msg;
}

// Stops the run with the first problem, or under --force warns of each.
void stop_or_warn(const ExtractRequest& req, const std::vector<std::string>& problems) {
    if (problems.empty()) return;
    if (!req.force) throw std::runtime_error(problems.front() + "; or --force to go on anyway");
    if (!req.quiet)
        for (const auto& p : problems) std::fprintf(stderr, "extract: warning (--force): %s\n", p.c_str());
}

// Fails in seconds, before hours of work, when the run cannot fit: its memory (the node
// index when in memory), the node index file under --tmp-dir, the catalog in OUT (both, when
// they share a file system). Each message names the limit and what to change; --force goes on.
// `catalog_disk`: what the catalog will take in OUT (0: not known yet, checked later).
void preflight(const ExtractRequest& req, const std::string& index, const std::string& scratch_dir, std::uint64_t input_bytes,
               std::uint64_t largest_id, const UsableMemory& memory, std::uint64_t catalog_disk) {
    std::vector<std::string> problems;
    const std::string sparse_hint = "--node-index sparse_file_array --tmp-dir DIR (about " +
                                    human_bytes(osm::node_index_bytes("sparse_file_array", input_bytes, largest_id)) + " of disk in DIR)";
    const auto ram = osm::extract_memory_bytes(index, input_bytes, largest_id);
    if (memory.known() && ram > memory.bytes) {
        std::string msg = req.input + ": the extract needs about " + human_bytes(ram) + " of memory with --node-index " + index;
        if (!osm::is_file_backed_index(index)) msg += " (in-memory node index about " + human_bytes(osm::node_index_bytes(index, input_bytes, largest_id)) + ")";
        msg += " but the run may use " + human_bytes(memory.bytes) + " (" + memory.source + "); ";
        msg += osm::is_file_backed_index(index) ? "extract a smaller region first (osmium extract --bbox) or use a machine with more memory"
                                                : "use " + sparse_hint;
        problems.push_back(msg);
    }
    const auto index_disk = index_disk_bytes(index, input_bytes, largest_id);
    const auto scratch_free = index_disk ? free_disk_bytes(scratch_dir) : 0;
    if (scratch_free && scratch_free < index_disk) {
        std::string msg = "--node-index " + index + ": the node index needs about " + human_bytes(index_disk);
        if (index == "dense_file_array") msg += " (8 bytes x the largest node id, " + std::to_string(largest_id) + ")";
        msg += " in --tmp-dir " + scratch_dir + ", which has " + human_bytes(scratch_free) + " free; use --tmp-dir on a disk with " +
               human_bytes(index_disk) + " free";
        if (index == "dense_file_array") msg += ", or " + sparse_hint;
        problems.push_back(msg);
    } else if (catalog_disk) {
        if (auto p = catalog_disk_problem(req, index, scratch_dir, index_disk, catalog_disk)) problems.push_back(*p);
    }
    stop_or_warn(req, problems);
}

std::string iso_now() {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

std::string span(const osm::Box& b) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "lon %.4f..%.4f, lat %.4f..%.4f", b.min_lon, b.max_lon, b.min_lat, b.max_lat);
    return buf;
}

// A run that keeps nothing is a mistake to report, not an empty catalog to build on.
[[noreturn]] void fail_empty(const ExtractRequest& req, const osm::ExtractStats& s, const osm::SpatialFilter* region) {
    const std::string input_span = s.nodes_located ? " (its nodes lie at " + span(s.node_bounds) + ")" : " (it has no node locations)";
    if (req.bbox) {
        std::string msg = "--bbox " + format_box(*req.bbox) + ": no object of " + req.input + " lies in the box" + input_span;
        if (s.nodes_located)
            if (const auto swapped = swapped_box_if_better(*req.bbox, s.node_bounds))
                msg += "; the order is W,S,E,N (lon,lat,lon,lat): did you mean --bbox " + format_box(*swapped) + "?";
        throw OptionRefused(msg);
    }
    if (region) {
        std::string msg = "--polygon " + req.polygon + ": no object of " + req.input + " lies in its polygons (at " +
                          span(region->bbox()) + ")" + input_span;
        if (s.nodes_located && swapped_box_if_better(region->bbox(), s.node_bounds))
            msg += "; are its coordinates lat,lon? GeoJSON's order is lon,lat";
        throw OptionRefused(msg);
    }
    // Objects with a feature tag whose geometry could not be made (ways without their nodes,
    // in a file cut by tags alone): said as such, not as objects without a feature tag.
    if (s.invalid() > 0) {
        std::string why;
        const auto add = [&](std::uint64_t n, const char* what) {
            if (n) why += (why.empty() ? "" : ", ") + std::to_string(n) + " " + what;
        };
        add(s.missing_locations, "lines whose nodes are not in the file");
        add(s.invalid_lines, "lines of fewer than 2 points");
        add(s.invalid_areas, "areas that are no valid polygon");
        add(s.incomplete_relations, "multipolygons whose member ways are not in the file");
        add(s.off_the_globe, "points and lines with a node beyond latitude ±90 or longitude ±180");
        const bool members_missing = s.missing_locations > 0 || s.incomplete_relations > 0;
        throw std::runtime_error(req.input + ": no catalog object: none of its objects with a feature tag of the tag list has a geometry (" + why + ")" +
                                 (members_missing ? "; an extract cut by tags alone lacks the nodes of its ways: cut it by area (osmium extract)" : ""));
    }
    throw std::runtime_error(req.input + ": no catalog object: none of its " + std::to_string(s.nodes_read) + " nodes, " +
                             std::to_string(s.ways_read) + " ways and " + std::to_string(s.relations_read) +
                             " relations has a feature tag of the tag list" +
                             (s.hidden ? " and is visible from above (" + std::to_string(s.hidden) + " hidden)" : ""));
}

// While it lives, SIGINT, SIGTERM and SIGHUP remove the catalog's partial files before the
// signal ends the run as it would have (the writer removes them on errors; a SIGKILL
// leaves them to the next run, whose writer removes them first).
class PartialFilesOnSignal {
public:
    explicit PartialFilesOnSignal(const std::string& partial) {
        std::size_t i = 0;
        for (const std::string& p : {partial, partial + ".boxes", partial + "-journal"})
            if (p.size() < sizeof paths_[0]) std::snprintf(paths_[i++], sizeof paths_[0], "%s", p.c_str());
        struct sigaction sa {};
        sa.sa_handler = &PartialFilesOnSignal::on_signal;
        sigemptyset(&sa.sa_mask);
        for (std::size_t k = 0; k < std::size(signals_); ++k) {
            ::sigaction(signals_[k], &sa, &previous_[k]);
            if (previous_[k].sa_handler == SIG_IGN) ::sigaction(signals_[k], &previous_[k], nullptr); // stays ignored (nohup, &)
        }
    }
    ~PartialFilesOnSignal() {
        for (std::size_t k = 0; k < std::size(signals_); ++k) ::sigaction(signals_[k], &previous_[k], nullptr);
        for (auto& p : paths_) p[0] = 0;
    }
    PartialFilesOnSignal(const PartialFilesOnSignal&) = delete;
    PartialFilesOnSignal& operator=(const PartialFilesOnSignal&) = delete;

private:
    static void on_signal(int sig) {
        for (const auto& p : paths_)
            if (p[0]) ::unlink(p); // async-signal-safe
        // The command's own handler (one line saying how to resume, then exit), else the default.
        for (std::size_t k = 0; k < std::size(signals_); ++k)
            if (signals_[k] == sig && previous_[k].sa_handler != SIG_DFL && previous_[k].sa_handler != SIG_IGN &&
                !(previous_[k].sa_flags & SA_SIGINFO))
                previous_[k].sa_handler(sig);
        ::signal(sig, SIG_DFL);
        ::raise(sig);
    }
    static constexpr int signals_[] = {SIGINT, SIGTERM, SIGHUP};
    static inline char paths_[3][4096];
    static inline struct sigaction previous_[3];
};

// A progress bar per phase, so a long phase says what it is doing.
class PhaseProgress {
public:
    // `pass`: "extract", or "sample" for the first read when sampling in the read.
    PhaseProgress(const ExtractRequest& req, std::uint64_t largest_id, std::uint64_t input_bytes, std::string pass = "extract")
        : req_(req), largest_id_(largest_id), input_bytes_(input_bytes), pass_(std::move(pass)) {}

    void operator()(const osm::ExtractProgress& p) {
        if (!bar_ || p.phase != phase_) start(p.phase);
        if (p.phase == osm::ExtractProgress::Phase::node_index) bar_->update(p.done, p.total, p.done / 8, "ids");
        else bar_->update(p.done, p.total, p.objects, "objects");
    }
    void finish() {
        if (bar_) bar_->finish();
    }

private:
    void start(osm::ExtractProgress::Phase phase) {
        using Phase = osm::ExtractProgress::Phase;
        finish();
        phase_ = phase;
        const char* what = phase == Phase::relations ? " 1/2 relations" : phase == Phase::node_index ? " dense node index" : " 2/2 nodes+ways";
        bar_.emplace(pass_ + what, req_.quiet);
        // The bars name the reading passes; the index gets a line of its own as it can take
        // minutes before pass 2 shows any progress.
        if (phase == Phase::node_index && !req_.quiet) {
            std::fprintf(stderr, "extract: filling the dense node index: %s in %s for node ids up to %llu (8 bytes each; "
                         "a sparse index would take about %s)\n",
                         human_bytes(osm::dense_index_bytes(largest_id_)).c_str(), (req_.tmp_dir.empty() ? req_.out_dir : req_.tmp_dir).c_str(),
                         static_cast<unsigned long long>(largest_id_), human_bytes(2 * input_bytes_).c_str());
            std::fflush(stderr);
        }
    }

    const ExtractRequest& req_;
    std::uint64_t largest_id_, input_bytes_;
    std::string pass_;
    std::optional<Progress> bar_;
    osm::ExtractProgress::Phase phase_{};
};

} // namespace

void check_node_index(const std::string& name) {
    if (!osm::is_known_node_index(name))
        throw UsageError("--node-index: unknown index `" + name + "` (one of auto, flex_mem, sparse_file_array, dense_file_array)");
}

bool wants_read_sample(const std::string& mode, const std::string& input) {
    if (mode == "on") return true;
    if (mode == "off") return false;
    if (mode != "auto") throw UsageError("--read-sample: expected auto, on or off, got `" + mode + "`");
    std::error_code ec;
    const auto size = std::filesystem::file_size(input, ec);
    return !ec && size >= read_sample_bytes;
}

namespace {

std::string exact(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// What the planner checks its options against (plan_stage.cpp), and what the draws found.
void add_read_sample_meta(std::map<std::string, std::string>& meta, const ExtractRequest::ReadSampling& r, const ExtractResult& result) {
    meta["sampled_in_read"] = "yes";
    meta["sample seed"] = std::to_string(static_cast<long long>(r.sampling.seed)); // as given: --seed -1 is -1
    meta["sample all-below"] = std::to_string(r.sampling.all_below);
    meta["sample cells"] = std::to_string(r.sampling.cells);
    meta["sample rare-min"] = std::to_string(r.sampling.rare_min);
    meta["sample point-tile-px"] = std::to_string(r.placement.point_tile_px);
    meta["sample max-px"] = std::to_string(r.placement.max_px);
    meta["sample margin"] = exact(r.placement.margin);
    meta["sample offset"] = exact(r.placement.offset);
    meta[sample_coarsest_gsd_key] = exact(r.coarsest_source_gsd);
    meta["sample candidates"] = std::to_string(result.candidates);
    meta["sample cells_total"] = std::to_string(result.cells_total);
    meta["sample cells_chosen"] = std::to_string(result.cells_chosen);
    meta["sample rare_added"] = std::to_string(result.rare_added);
    meta["sample focus"] = std::to_string(result.focus);
    meta["sample cells_reached"] = std::to_string(result.cells_reached);
}

// Whether the first read of sampling in the read keeps every row for the catalog (about as
// many bytes as the full catalog, estimated at 5 a PBF byte) in `scratch_dir`: when it has
// room for them twice over, besides the node index there.
bool rows_fit_scratch(const std::string& scratch_dir, std::uint64_t input_bytes, std::uint64_t index_disk) {
    const auto free = free_disk_bytes(scratch_dir);
    return input_bytes > 0 && free && free >= index_disk + 2 * osm::catalog_bytes_estimate(input_bytes);
}

// Reading twice, the first read notes every row (48 bytes) and keeps its point rows in the
// scratch folder: about a byte a PBF byte (0.8 on Liechtenstein x512), besides the node index.
std::optional<std::string> notes_disk_problem(const std::string& scratch_dir, std::uint64_t input_bytes, std::uint64_t index_disk) {
    const auto free = free_disk_bytes(scratch_dir);
    if (!free || free >= index_disk + input_bytes) return std::nullopt;
    return "--tmp-dir " + scratch_dir + ": sampling in the read notes every row there, about " + human_bytes(input_bytes) +
           (index_disk ? " besides the node index's " + human_bytes(index_disk) : std::string()) + ", but it has " + human_bytes(free) +
           " free; use --tmp-dir on a larger disk";
}

// The catalog from the first read's rows (every row, in order, with its fid): those `sink`
// wants, with their counts; those `filter` refuses dropped as they are read back, on the workers.
osm::ExtractStats write_kept_rows(osm::RowSpill& rows, osm::RowSink& sink, const SampleFilter* filter, int threads, bool quiet) {
    osm::ExtractStats s;
    osm::RowSequencer sequencer{sink, s};
    Progress progress{"sample 2/2 writing the catalog", quiet, Progress::Unit::counted};
    std::function<bool(const osm::CatalogRow&)> keep;
    if (filter) keep = [filter](const osm::CatalogRow& head) { return filter->keeps(head); };
    sequencer.take_spilled(rows, threads, keep, [&](std::uint64_t read) { progress.update(read, rows.size(), s.kept(), "rows"); });
    sequencer.finish();
    progress.finish();
    return s;
}

// The stats of sampling in the read: the input's from the first read, the rows kept from the second.
osm::ExtractStats read_twice(const osm::ExtractStats& first, const osm::ExtractStats& second) {
    auto s = first;
    s.points = second.points, s.lines = second.lines, s.areas = second.areas;
    s.not_wanted = first.not_wanted - std::min(first.not_wanted, second.kept());
    return s;
}

} // namespace

ExtractResult run_extract(const ExtractRequest& req) {
    check_node_index(req.node_index); // every caller: extract, the bare command, later stages
    const auto tag_list = load_tag_option(req.tags);
    const tags::TagMatcher matcher{tag_list};
    const auto hidden = load_hidden_option(req.hidden);

    std::optional<osm::SpatialFilter> region;
    std::string region_digest;
    if (req.bbox) region = osm::SpatialFilter::rectangle(*req.bbox);
    else if (!req.polygon.empty()) region = load_polygon_region(req.polygon, &region_digest);

    std::error_code ec;
    std::filesystem::create_directories(req.out_dir, ec);
    if (ec || !std::filesystem::is_directory(req.out_dir))
        throw std::runtime_error(req.out_dir + ": cannot create output folder (" + (ec ? ec.message() : "not a folder") + ")");

    const std::string scratch_dir = req.tmp_dir.empty() ? req.out_dir : req.tmp_dir;
    if (!std::filesystem::is_directory(scratch_dir, ec)) throw UsageError("--tmp-dir " + scratch_dir + ": no such folder");

    osm::ExtractOptions options;
    options.input = req.input;
    options.node_index = req.node_index;
    options.threads = req.threads > 0 ? req.threads : usable_cores();
    const bool input_is_file = std::filesystem::is_regular_file(req.input, ec);
    const std::uint64_t input_bytes = input_is_file ? std::filesystem::file_size(req.input, ec) : 0;
    const auto memory = usable_memory();
    const std::uint64_t memory_for_auto = memory.known() ? memory.bytes : UINT64_MAX;
    // What a dense index costs depends on the largest node id: a few blobs read to know it.
    const bool auto_may_go_to_disk = input_bytes >= osm::planet_sized_bytes ||
                                     osm::extract_memory_bytes("flex_mem", input_bytes, 0) > memory_for_auto;
    if (input_is_file && (req.node_index == "dense_file_array" || (req.node_index == "auto" && auto_may_go_to_disk)))
        options.largest_node_id = osm::largest_node_id(req.input).value_or(0);
    if (req.node_index == "auto" && input_is_file)
        options.node_index = osm::choose_node_index(input_bytes, options.largest_node_id, memory_for_auto);
    options.scratch_dir = scratch_dir;
    options.region = region ? &*region : nullptr;
    // Sampling in the read: the catalog's size is known after the first read (checked then).
    const auto full_catalog = osm::catalog_bytes_estimate(input_bytes);
    if (input_is_file) preflight(req, options.node_index, scratch_dir, input_bytes, options.largest_node_id, memory, req.read_sample ? 0 : full_catalog);

    const auto start = std::chrono::steady_clock::now();
    ExtractResult result;
    // Sampling in the read: the first read draws the sample and keeps no row in the catalog.
    // When the scratch disk has room, it keeps every row in a scratch file, and the catalog
    // is written from there: the input is read once. Else it keeps what a second read needs
    // to make only the sample's rows (its node index, its point rows, each row's mark).
    std::optional<SampleSurvey> survey;
    std::optional<ReadSample> sample;
    osm::FirstRead kept;
    std::optional<osm::ExtractStats> first_read;
    osm::ObjectSelection selection;
    if (req.read_sample) {
        const auto index_disk = index_disk_bytes(options.node_index, input_bytes, options.largest_node_id);
        const bool keep_rows = rows_fit_scratch(scratch_dir, input_bytes, index_disk);
        if (!keep_rows && input_is_file)
            if (auto p = notes_disk_problem(scratch_dir, input_bytes, index_disk)) stop_or_warn(req, {*p});
        survey.emplace(req.read_sample->sampling, req.read_sample->placement, req.read_sample->coarsest_source_gsd, scratch_dir, keep_rows);
        PhaseProgress progress{req, options.largest_node_id, input_bytes, "sample"};
        options.on_progress = [&](const osm::ExtractProgress& p) { progress(p); };
        if (!keep_rows) options.keep_for_second = &kept;
        first_read = osm::extract_catalog(options, matcher, hidden, *survey);
        options.keep_for_second = nullptr;
        progress.finish();
        if (first_read->not_wanted == 0) fail_empty(req, *first_read, options.region);
        sample = survey->draw();
        if (!sample->everything && !keep_rows) selection = survey->select(*sample);
        // The catalog's share of a full one: about the share of non-empty cells the sample
        // reaches (a quarter more: dense cells are drawn as often as sparse ones).
        // Memory and the index were checked before the first read; the catalog is checked now.
        const auto catalog_disk = sample->everything || sample->cells_total == 0
                                      ? full_catalog
                                      : std::max<std::uint64_t>(1, static_cast<std::uint64_t>(1.25 * double(full_catalog) *
                                                                                              double(sample->cells_reached) /
                                                                                              double(sample->cells_total)));
        if (input_is_file)
            if (auto p = catalog_disk_problem(req, options.node_index, scratch_dir,
                                              index_disk_bytes(options.node_index, input_bytes, options.largest_node_id), catalog_disk))
                stop_or_warn(req, {*p});
        result.sampled_in_read = !sample->everything;
        result.candidates = sample->candidates;
        result.cells_total = sample->cells_total;
        result.cells_chosen = sample->cells_chosen;
        result.rare_added = sample->rare_added;
        result.cells_reached = sample->cells_reached;
    }
    CatalogGpkgWriter writer{BuildDir(req.out_dir).catalog()};
    const PartialFilesOnSignal cleanup_on_signal{writer.partial_path()};
    std::optional<SampleFilter> filter;
    if (sample && !sample->everything) filter.emplace(*sample, writer);
    osm::RowSink& sink = filter ? static_cast<osm::RowSink&>(*filter) : writer;
    if (survey && survey->rows()) {
        result.stats = write_kept_rows(*survey->rows(), sink, filter ? &*filter : nullptr, options.threads, req.quiet);
    } else {
        PhaseProgress progress{req, options.largest_node_id, input_bytes};
        options.on_progress = [&](const osm::ExtractProgress& p) { progress(p); };
        if (sample) options.second_of = &kept;
        if (filter) options.only = &selection;
        result.stats = osm::extract_catalog(options, matcher, hidden, sink);
        progress.finish();
        kept = {};
    }
    survey.reset(); // its scratch files
    // What the input holds is what the first read saw (the second builds only the sample's
    // objects, and reads no node of a PBF); what the catalog keeps, the second.
    if (first_read) result.stats = read_twice(*first_read, result.stats);
    if (filter) result.focus = static_cast<std::int64_t>(filter->focus_fids().size());

    const auto& s = result.stats;
    if (s.kept() == 0 && filter)
        throw std::runtime_error(req.input + ": the sample drew none of its " + std::to_string(result.candidates) + " candidates (--cells " +
                                 std::to_string(req.read_sample->sampling.cells) + ", --rare-min " + std::to_string(req.read_sample->sampling.rare_min) +
                                 "); draw more cells or rare-tag objects");
    if (s.kept() == 0) fail_empty(req, s, options.region); // the writer removes its partial file
    std::map<std::string, std::string> meta{
        {"generator", "skyscript-build extract"},
        {"created", iso_now()},
        {"input", std::filesystem::absolute(req.input).string()},
        {"input_bytes", std::to_string(std::filesystem::file_size(req.input, ec))},
        {"input_osm_timestamp", osm::pbf_timestamp(req.input)},
        {"tags", req.tags.empty() ? "default" : req.tags},
        {"tags_digest", tag_list_digest(tag_list)},
        {"hidden_rules", req.hidden.empty() ? "default" : req.hidden},
        {"hidden_digest", hidden_rules_digest(hidden)},
        {"node_index", options.node_index},
        {"region", req.bbox ? "bbox" : req.polygon.empty() ? "" : req.polygon},
        {"objects", std::to_string(s.kept())},
        {"points", std::to_string(s.points)},
        {"lines", std::to_string(s.lines)},
        {"areas", std::to_string(s.areas)},
        {"hidden", std::to_string(s.hidden)},
        {"invalid_lines", std::to_string(s.invalid_lines)},
        {"invalid_areas", std::to_string(s.invalid_areas)},
        {"missing_locations", std::to_string(s.missing_locations)},
        {"incomplete_relations", std::to_string(s.incomplete_relations)},
        {"off_the_globe", std::to_string(s.off_the_globe)},
    };
    if (!region_digest.empty()) meta["region_digest"] = region_digest;
    if (filter) add_read_sample_meta(meta, *req.read_sample, result);
    else if (sample) meta["sampled_in_read"] = "no: " + std::to_string(sample->candidates) + " candidates, the planner takes every one (--all-below)";
    writer.commit(meta, filter ? &filter->focus_fids() : nullptr);
    result.catalog_path = BuildDir(req.out_dir).catalog();
    // The file the user gave, not always the built-in one's name (red-team round 33).
    const std::string builtin = "tunnels, underground, indoor, covered; tag_filters/hidden.tsv";
    result.hidden_rules = req.hidden.empty()          ? builtin
                          : req.hidden.front() == '+' ? builtin + " and " + req.hidden.substr(1)
                          : hidden.rules().empty()    ? "no rule: " + req.hidden + " holds none"
                                                      : "the rules of " + req.hidden;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

void print_extract_summary(const ExtractResult& r) {
    const auto& s = r.stats;
    std::printf("extract: %llu objects in %s (%llu points, %llu lines, %llu areas)\n",
                static_cast<unsigned long long>(s.kept()), r.catalog_path.c_str(),
                static_cast<unsigned long long>(s.points), static_cast<unsigned long long>(s.lines),
                static_cast<unsigned long long>(s.areas));
    std::printf("  hidden: %llu (not visible from above: %s)\n", static_cast<unsigned long long>(s.hidden), r.hidden_rules.c_str());
    std::printf("  invalid geometries: %llu (%llu areas not assembled, %llu lines with < 2 points, "
                "%llu lines with nodes missing from the input, %llu incomplete multipolygons",
                static_cast<unsigned long long>(s.invalid()), static_cast<unsigned long long>(s.invalid_areas),
                static_cast<unsigned long long>(s.invalid_lines), static_cast<unsigned long long>(s.missing_locations),
                static_cast<unsigned long long>(s.incomplete_relations));
    if (s.off_the_globe) // only in files that no OSM tool wrote
        std::printf(", %llu points and lines with a node beyond latitude ±90 or longitude ±180", static_cast<unsigned long long>(s.off_the_globe));
    std::printf(")\n");
    if (s.outside_region) std::printf("  outside the region: %llu\n", static_cast<unsigned long long>(s.outside_region));
    if (r.sampled_in_read)
        std::printf("  sampled in the read: %lld of %lld non-empty cells, %lld focus candidates (%lld for rare tags) of the input's %lld; "
                    "%llu objects kept for their tiles, %llu left out\n",
                    static_cast<long long>(r.cells_chosen), static_cast<long long>(r.cells_total), static_cast<long long>(r.focus),
                    static_cast<long long>(r.rare_added), static_cast<long long>(r.candidates), static_cast<unsigned long long>(s.kept()),
                    static_cast<unsigned long long>(s.not_wanted));
    std::printf("  read %llu nodes, %llu ways, %llu relations in %.2f s, peak RSS %s\n",
                static_cast<unsigned long long>(s.nodes_read), static_cast<unsigned long long>(s.ways_read),
                static_cast<unsigned long long>(s.relations_read), r.seconds, human_bytes(peak_rss_bytes()).c_str());
}

StageSummary stage_extract(BuildSession& s) {
    if (s.state->stage_finished("extract") && std::filesystem::exists(s.catalog_path())) return StageSummary::nothing_to_do();
    // Made by the `extract` subcommand, then planned with `plan OUT` (which records no extract):
    // the catalog the plan was made from is the build's (open_build_session's
    // check_catalog_unchanged has refused any other). It was extracted again here, over itself,
    // with this run's region (none, when the plan recorded none), and the build then refused as
    // planned from another catalog, the one it had been planned from gone.
    if (s.state->stage_finished("plan") && std::filesystem::exists(s.catalog_path()) && !s.state->catalog_identity().empty())
        return StageSummary::nothing_to_do();
    if (const auto shared = s.options.text("catalog"); !shared.empty()) { // made once, on shared storage (docs/scale.md)
        const auto placed = place_shared_catalog(shared, s.out_dir, s.options);
        if (!s.quiet) std::printf("extract: %s %s as %s\n", placed.copied ? "copied" : "linked", shared.c_str(), placed.placed_at.c_str());
        return StageSummary::finished(0, nlohmann::json{{"objects", placed.objects}, {"catalog", shared}}.dump());
    }
    ExtractRequest req;
    req.input = s.options.text("input");
    req.out_dir = s.out_dir;
    req.tags = s.options.text("tags");
    req.hidden = s.options.text("hidden");
    if (const auto b = s.options.text("bbox"); !b.empty()) req.bbox = parse_bbox(b);
    req.polygon = s.options.text("polygon");
    if (req.bbox && !req.polygon.empty()) throw UsageError("--bbox and --polygon exclude each other");
    req.node_index = s.options.text("node-index");
    req.tmp_dir = s.options.text("tmp-dir");
    req.threads = static_cast<int>(s.options.integer("threads"));
    req.force = s.options.flag("force");
    req.quiet = s.quiet;
    if (wants_read_sample(s.options.text("read-sample"), req.input))
        req.read_sample = ExtractRequest::ReadSampling{sampling_options(s.options), placement_options(s.options),
                                                       coarsest_source_gsd(s.options.text("sources"))};
    // A catalog lost after the plan (deleted to save room: the later stages read the state DB)
    // is extracted again. The same input and options give the same catalog, row for row, so
    // when it is the one the plan was made from, the plan and every image it fetched stay
    // (before, the plan was reset and every image fetched again); another is refused, as a
    // catalog replaced under the plan is, and nothing done is lost.
    const auto planned_from = s.state->stage_finished("plan") ? s.state->catalog_identity() : std::string();
    if (planned_from.empty()) s.state->reset_stages_from("extract");
    else if (std::error_code ec; !std::filesystem::is_regular_file(req.input, ec))
        throw std::runtime_error(s.catalog_path() + " is missing, and extracting it again needs " + req.input +
                                 ", which is not a file now; put either back, or go on without them: the stages after the plan "
                                 "(`skyscript-build fetch " + s.out_dir + "`, then write, split, report) read the state DB, and only a "
                                 "source fallback needs the catalog");
    const auto result = run_extract(req);
    if (!s.quiet) print_extract_summary(result);
    if (!planned_from.empty()) {
        check_same_catalog(planned_from, CatalogReader(s.catalog_path()).meta(), s.out_dir, s.catalog_path(), s.state->path());
        if (!s.quiet) std::printf("  %s was missing: extracted again, it is the catalog the plan was made from: its jobs are kept\n", s.catalog_path().c_str());
    }
    return StageSummary::finished(result.seconds, nlohmann::json{{"objects", result.stats.kept()}}.dump());
}

} // namespace skyscript::pipeline
