// The extract stage: PBF → OUT/catalog.gpkg (osm/ reads, catalog_gpkg writes).

#include "extract_stage.hpp"

#include "catalog_gpkg.hpp"
#include "extractor.hpp"
#include "hidden_rules.hpp"
#include "node_id_range.hpp"
#include "progress.hpp"
#include "region.hpp"
#include "system_info.hpp"
#include "tag_list_file.hpp"
#include "tag_matcher.hpp"
#include "text_file.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <signal.h>
#include <unistd.h>

namespace skyscript::pipeline {

namespace {

// `--hidden`: "" the built-in rules (tag_filters/hidden.tsv), FILE replaces them (an empty
// file hides nothing), +FILE adds to them.
tags::HiddenRules load_hidden_option(const std::string& option) {
    if (option.empty()) return tags::HiddenRules::builtin();
    const bool add = option.front() == '+';
    const std::string path = add ? option.substr(1) : option;
    const auto text = read_text_file(path);
    if (!text) throw tags::HiddenRulesError(path + ": cannot open hidden-object rules");
    auto rules = tags::HiddenRules::parse(*text, path);
    if (!add) return rules;
    auto all = tags::HiddenRules::builtin();
    all.merge(rules);
    return all;
}

// Fails fast, before hours of work, when the node index cannot fit. A dense index costs
// 8 bytes × the largest node id whatever the file's size; the others about 16 bytes a
// node, about twice the PBF's size.
void preflight(const std::string& input, const std::string& index, const std::string& out_dir, std::uint64_t largest_id) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(input, ec);
    if (ec) return; // extract_catalog reports the input problem itself
    if (index == "dense_file_array") {
        if (!largest_id) return; // no nodes: nothing to index
        const auto need = osm::dense_index_bytes(largest_id);
        const auto free = free_disk_bytes(out_dir);
        if (free && free < need)
            throw std::runtime_error("--node-index dense_file_array: node ids up to " + std::to_string(largest_id) + " need " +
                                     human_bytes(need) + " (8 bytes x the largest node id) but " + out_dir + " has " +
                                     human_bytes(free) + " free; use --node-index sparse_file_array or flex_mem");
        return;
    }
    const std::uint64_t estimate = 2 * size; // about 16 bytes per node, ~9 PBF bytes per node
    if (index == "sparse_file_array") {
        const auto free = free_disk_bytes(out_dir);
        if (free && free < estimate)
            throw std::runtime_error(out_dir + ": not enough free disk for the file-backed node index (about " +
                                     human_bytes(estimate) + " needed, " + human_bytes(free) + " free)");
        return;
    }
    const auto avail = available_memory_bytes();
    if (avail && estimate > avail)
        throw std::runtime_error(input + ": the in-memory node index would need about " + human_bytes(estimate) +
                                 " but only " + human_bytes(avail) + " is available; use --node-index sparse_file_array");
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
        throw std::runtime_error(msg);
    }
    if (region) {
        std::string msg = "--polygon " + req.polygon + ": no object of " + req.input + " lies in its polygons (at " +
                          span(region->bbox()) + ")" + input_span;
        if (s.nodes_located && swapped_box_if_better(region->bbox(), s.node_bounds))
            msg += "; are its coordinates lat,lon? GeoJSON's order is lon,lat";
        throw std::runtime_error(msg);
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
        ::signal(sig, SIG_DFL);
        ::raise(sig);
    }
    static constexpr int signals_[] = {SIGINT, SIGTERM, SIGHUP};
    static inline char paths_[3][4096];
    struct sigaction previous_[3];
};

// A progress bar per phase, so a long phase says what it is doing.
class PhaseProgress {
public:
    PhaseProgress(const ExtractRequest& req, std::uint64_t largest_id, std::uint64_t input_bytes)
        : req_(req), largest_id_(largest_id), input_bytes_(input_bytes) {}

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
        const char* label = phase == Phase::relations    ? "extract 1/2 relations"
                            : phase == Phase::node_index ? "extract dense node index"
                                                         : "extract 2/2 nodes+ways";
        bar_.emplace(label, req_.quiet);
        // The bars name the reading passes; the index gets a line of its own as it can take
        // minutes before pass 2 shows any progress.
        if (phase == Phase::node_index && !req_.quiet) {
            std::fprintf(stderr, "extract: filling the dense node index: %s in %s for node ids up to %llu (8 bytes each; "
                         "a sparse index would take about %s)\n",
                         human_bytes(osm::dense_index_bytes(largest_id_)).c_str(), req_.out_dir.c_str(),
                         static_cast<unsigned long long>(largest_id_), human_bytes(2 * input_bytes_).c_str());
            std::fflush(stderr);
        }
    }

    const ExtractRequest& req_;
    std::uint64_t largest_id_, input_bytes_;
    std::optional<Progress> bar_;
    osm::ExtractProgress::Phase phase_{};
};

} // namespace

void check_node_index(const std::string& name) {
    if (!osm::is_known_node_index(name))
        throw UsageError("--node-index: unknown index `" + name + "` (one of auto, flex_mem, sparse_file_array, dense_file_array)");
}

ExtractResult run_extract(const ExtractRequest& req) {
    check_node_index(req.node_index); // every caller: extract, the bare command, later stages
    const auto tag_list = load_tag_option(req.tags);
    const tags::TagMatcher matcher{tag_list};
    const auto hidden = load_hidden_option(req.hidden);

    std::optional<osm::SpatialFilter> region;
    if (req.bbox) region = osm::SpatialFilter::rectangle(*req.bbox);
    else if (!req.polygon.empty()) region = load_polygon_region(req.polygon);

    std::error_code ec;
    std::filesystem::create_directories(req.out_dir, ec);
    if (ec || !std::filesystem::is_directory(req.out_dir))
        throw std::runtime_error(req.out_dir + ": cannot create output folder (" + (ec ? ec.message() : "not a folder") + ")");

    osm::ExtractOptions options;
    options.input = req.input;
    options.node_index = req.node_index;
    const bool input_is_file = std::filesystem::is_regular_file(req.input, ec);
    const std::uint64_t input_bytes = input_is_file ? std::filesystem::file_size(req.input, ec) : 0;
    // What a dense index costs depends on the largest node id: a few blobs read to know it.
    if (input_is_file && (req.node_index == "dense_file_array" || (req.node_index == "auto" && input_bytes >= osm::planet_sized_bytes)))
        options.largest_node_id = osm::largest_node_id(req.input).value_or(0);
    if (req.node_index == "auto" && input_is_file) options.node_index = osm::choose_node_index(input_bytes, options.largest_node_id);
    options.scratch_dir = req.out_dir;
    options.region = region ? &*region : nullptr;
    preflight(req.input, options.node_index, req.out_dir, options.largest_node_id);

    const auto start = std::chrono::steady_clock::now();
    CatalogGpkgWriter writer{(std::filesystem::path(req.out_dir) / "catalog.gpkg").string()};
    const PartialFilesOnSignal cleanup_on_signal{writer.partial_path()};
    PhaseProgress progress{req, options.largest_node_id, input_bytes};
    options.on_progress = [&](const osm::ExtractProgress& p) { progress(p); };
    ExtractResult result;
    result.stats = osm::extract_catalog(options, matcher, hidden, writer);
    progress.finish();

    const auto& s = result.stats;
    if (s.kept() == 0) fail_empty(req, s, options.region); // the writer removes its partial file
    std::map<std::string, std::string> meta{
        {"generator", "skyscript-build extract"},
        {"created", iso_now()},
        {"input", std::filesystem::absolute(req.input).string()},
        {"input_bytes", std::to_string(std::filesystem::file_size(req.input, ec))},
        {"tags", req.tags.empty() ? "default" : req.tags},
        {"hidden_rules", req.hidden.empty() ? "default" : req.hidden},
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
    };
    writer.commit(meta);
    result.catalog_path = (std::filesystem::path(req.out_dir) / "catalog.gpkg").string();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

void print_extract_summary(const ExtractResult& r) {
    const auto& s = r.stats;
    std::printf("extract: %llu objects in %s (%llu points, %llu lines, %llu areas)\n",
                static_cast<unsigned long long>(s.kept()), r.catalog_path.c_str(),
                static_cast<unsigned long long>(s.points), static_cast<unsigned long long>(s.lines),
                static_cast<unsigned long long>(s.areas));
    std::printf("  hidden: %llu (not visible from above: tunnels, underground, indoor, covered; tag_filters/hidden.tsv)\n",
                static_cast<unsigned long long>(s.hidden));
    std::printf("  invalid geometries: %llu (%llu areas not assembled, %llu lines with < 2 points, "
                "%llu lines with nodes missing from the input, %llu incomplete multipolygons)\n",
                static_cast<unsigned long long>(s.invalid()), static_cast<unsigned long long>(s.invalid_areas),
                static_cast<unsigned long long>(s.invalid_lines), static_cast<unsigned long long>(s.missing_locations),
                static_cast<unsigned long long>(s.incomplete_relations));
    if (s.outside_region) std::printf("  outside the region: %llu\n", static_cast<unsigned long long>(s.outside_region));
    std::printf("  read %llu nodes, %llu ways, %llu relations in %.2f s, peak RSS %s\n",
                static_cast<unsigned long long>(s.nodes_read), static_cast<unsigned long long>(s.ways_read),
                static_cast<unsigned long long>(s.relations_read), r.seconds, human_bytes(peak_rss_bytes()).c_str());
}

} // namespace skyscript::pipeline
