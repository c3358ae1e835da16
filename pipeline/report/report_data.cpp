#include "pipeline/report/report_data.hpp"

#include "osm/pbf_timestamp.hpp"
#include "imagery/json_depth.hpp"

#include "pipeline/catalog/catalog_identity.hpp"
#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/seeded_hash.hpp"
#include "pipeline/common/failure_class.hpp"
#include "pipeline/state/state_reader.hpp"

#include <gdal.h>
#include <nlohmann/json.hpp>
#include <osmium/version.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <queue>

#include <sys/stat.h>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

std::string tool_version() { return "skyscript-build 0.1.0"; }

namespace {

std::string iso_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// RFC 4180 records (a quoted field may hold newlines), after the header.
std::int64_t count_csv_records(const std::string& path) {
    if (!fs::is_regular_file(path)) return 0; // a FIFO put in its place would keep the open waiting for a writer
    std::ifstream in(path, std::ios::binary);
    if (!in) return 0;
    std::int64_t records = 0;
    bool quoted = false, any = false;
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
            const char c = buf[i];
            if (c == '"') quoted = !quoted;
            else if (c == '\n' && !quoted) ++records, any = false;
            else if (c != '\r') any = true;
        }
    }
    if (any) ++records; // last record without a newline
    return std::max<std::int64_t>(0, records - 1);
}

std::int64_t count_lines(const std::string& path) {
    if (!fs::is_regular_file(path)) return 0; // as count_csv_records
    std::ifstream in(path, std::ios::binary);
    std::int64_t n = 0;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) ++n;
    return n;
}

bool is_partial(const fs::path& p) { return p.filename().string().find(".partial-") != std::string::npos; }

FileCounts count_files(const std::string& out_dir) {
    FileCounts c;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(out_dir, ec)) {
        const auto name = dir.path().filename().string();
        const bool images = name.starts_with("images"), meta = name.starts_with("meta");
        if (dir.is_regular_file() && name.starts_with("SkyScript_") && dir.path().extension() == ".csv")
            c.csv_rows[name] = count_csv_records(dir.path().string());
        if (!dir.is_directory() || !(images || meta)) continue;
        for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
            if (!f.is_regular_file() || is_partial(f.path())) continue;
            if (images && f.path().extension() == ".jpg") ++c.images, c.image_bytes += static_cast<std::int64_t>(f.file_size(ec));
            if (meta && f.path().extension() == ".pickle") ++c.meta;
        }
    }
    c.jsonl_lines = count_lines(BuildDir(out_dir).meta_jsonl());
    return c;
}

std::string file_mtime(const std::string& path) {
    struct stat st{};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return "";
    std::tm tm{};
    gmtime_r(&st.st_mtime, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

ReportImage report_image(const StateReader::JobImage& job) {
    ReportImage im;
    im.job_id = job.job_id;
    im.stem = job.name;
    if (is_stem(im.stem)) im.path = image_relative_path(job.part, im.stem); // else a state DB edited by hand: shown without its image
    im.source = job.source;
    im.focus_tag = job.focus_tag;
    im.west = job.west;
    im.south = job.south;
    im.east = job.east;
    im.north = job.north;
    im.gsd = job.gsd;
    im.year = job.year;
    return im;
}

// The `keep` jobs of `status` with the smallest seeded hash of their job id: a sample that
// a rebuild with the same seed shows again, in one pass over any number of jobs.
std::vector<ReportImage> seeded_sample(StateReader& state, const char* status, std::uint64_t seed, std::uint64_t purpose, std::size_t keep) {
    using Entry = std::pair<std::uint64_t, ReportImage>;
    auto cmp = [](const Entry& a, const Entry& b) { return a.first < b.first; };
    std::priority_queue<Entry, std::vector<Entry>, decltype(cmp)> heap(cmp); // largest hash on top
    state.for_each_with_status(status, [&](const StateReader::JobImage& job) {
        const auto h = seeded_hash(seed, purpose, static_cast<std::uint64_t>(job.job_id));
        if (heap.size() < keep) heap.emplace(h, report_image(job));
        else if (keep > 0 && h < heap.top().first) heap.pop(), heap.emplace(h, report_image(job));
    });
    std::vector<Entry> entries;
    while (!heap.empty()) entries.push_back(heap.top()), heap.pop();
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
    std::vector<ReportImage> out;
    for (auto& [h, im] : entries) out.push_back(std::move(im));
    return out;
}

void add_cards(StateReader& state, std::vector<ReportImage>& images) {
    for (auto& im : images) {
        auto c = state.card(im.job_id);
        im.title = std::move(c.title);
        im.title_multi_objects = std::move(c.title_multi_objects);
        im.title_polished = std::move(c.title_polished);
        im.size_px = c.width;
        im.outline = focus_outline(c.objects, c.width);
    }
}

std::vector<TagCurvePoint> tag_curve(const std::vector<std::int64_t>& descending) {
    std::vector<TagCurvePoint> curve;
    const std::int64_t most = descending.empty() ? 0 : descending.front();
    for (std::int64_t step = 1;; step *= 10) {
        for (std::int64_t m : {1, 2, 5}) {
            const std::int64_t t = m * step;
            if (t > std::max<std::int64_t>(most, 1000)) return curve;
            const auto tags = std::upper_bound(descending.begin(), descending.end(), t, std::greater<>()) - descending.begin();
            curve.push_back({t, static_cast<std::int64_t>(tags)});
        }
    }
}

} // namespace

ReportData collect_report_data(const std::string& out_dir, const ReportLimits& limits) {
    ReportData r;
    r.out_dir = out_dir;
    r.generated_at = iso_now();
    StateReader state(out_dir);

    r.jobs_by_status = {{"planned", 0}, {"fetched", 0}, {"written", 0}, {"failed", 0}};
    for (const auto& [source, by_status] : state.count_by_source_status())
        for (const auto& [status, n] : by_status) {
            r.source_status[source][status] = n;
            r.jobs_by_status[status] += n;
            r.jobs += n;
        }
    r.pairs = r.jobs_by_status["written"];
    r.failed = r.jobs_by_status["failed"];
    const auto variety = state.written_variety();
    r.distinct_focus_tags = variety.focus_tags;
    r.distinct_tags = variety.tags;
    r.distinct_titles = variety.titles;
    r.distinct_multi_titles = variety.multi_titles;

    r.pairs_by_source = state.written_by_source();
    r.licences = state.written_by_source_terms();
    r.fallbacks = state.fallbacks();
    r.every_source_said_no = state.every_source_said_no();
    r.pairs_by_year = state.written_by_year();
    r.pairs_by_kind = state.written_by_kind();
    r.pairs_by_gsd = state.written_by_gsd();
    r.extent = state.written_extent();
    for (const auto& [tag, n] : state.written_by_focus_tag()) {
        if (r.top_tags.size() < limits.top_tags) r.top_tags.emplace_back(tag, n);
        r.tag_image_counts.push_back(n);
    }
    r.tag_curve = tag_curve(r.tag_image_counts);
    const auto [reused, finished] = state.reused_of_finished();
    r.reused = reused;
    r.fetched_anew = finished - reused;
    for (const auto& [reason, n] : state.skipped()) {
        r.skipped[reason] = n;
        r.skipped_total += n;
    }

    {
        // Distinct messages by class; each class's example is its first job.
        struct Class {
            std::int64_t jobs = 0, example_job = INT64_MAX;
            std::string example_reason;
        };
        std::map<std::string, Class> classes;
        for (const auto& f : state.failure_reasons()) {
            ++r.failure_messages_total;
            auto& c = classes[failure_class(f.reason)];
            c.jobs += f.jobs;
            if (f.first_job < c.example_job) c.example_job = f.first_job, c.example_reason = f.reason;
        }
        r.failure_reasons_total = static_cast<std::int64_t>(classes.size());
        for (const auto& [reason, c] : classes) r.failures.push_back({reason, c.jobs, std::to_string(c.example_job), c.example_reason});
        std::stable_sort(r.failures.begin(), r.failures.end(), [](const auto& a, const auto& b) { return a.jobs > b.jobs; });
        if (r.failures.size() > limits.failures) r.failures.resize(limits.failures);
        for (auto& f : r.failures)
            if (const auto job = state.job_brief(std::stoll(f.example)))
                f.example = job->id_part + " " + job->focus_tag + " (" + job->source + "), " + std::to_string(job->attempts) +
                            (job->attempts == 1 ? " attempt" : " attempts");
    }

    r.stages = read_stage_runs(state);
    for (const auto& run : r.stages)
        if (run.stage == "fetch") // a summary edited into no object, or a count into a word, counts none
            if (const auto s = imagery::parse_json_within_depth(run.summary_json); s.is_object() && s.contains("reuse_unused") && s["reuse_unused"].is_number_integer())
                r.reuse_not_needed = s["reuse_unused"].get<std::int64_t>();
    r.options = state.options();
    r.polish_owed = polish_owed(state);
    r.polish_failed_jobs = state.polish_failed_jobs();
    if (auto it = r.options.find("seed"); it != r.options.end()) r.seed = std::atoll(it->second.c_str());

    const auto catalog = BuildDir(out_dir).catalog();
    if (fs::exists(catalog)) {
        try {
            r.catalog = CatalogReader(catalog).meta();
        } catch (const std::exception&) { // a catalog being written: the report goes without it
        }
    }
    // Not a report of one build's jobs and another's catalog (catalog_identity.hpp).
    if (!r.catalog.empty()) check_same_catalog(state.catalog_identity(), r.catalog, out_dir, catalog, BuildDir(out_dir).state_db());
    // A build planned on a catalog of the `extract` subcommand before it took the catalog's input recorded none.
    const auto input = r.options.count("input") && !r.options["input"].empty() ? r.options["input"] : (r.catalog.count("input") ? r.catalog["input"] : "");
    // The data's date as the extract recorded it; a catalog made before it did: the file at the
    // input's path, when it is still the size the build read (another file there since, the
    // next day's download, restamped the card with its date).
    const auto recorded_bytes = r.options.count("input-bytes") && !r.options["input-bytes"].empty() ? r.options["input-bytes"]
                                : r.catalog.count("input_bytes")                                    ? r.catalog["input_bytes"]
                                                                                                    : std::string();
    std::error_code size_ec;
    const bool input_is_the_built_one = !input.empty() && fs::is_regular_file(input, size_ec) && !recorded_bytes.empty() &&
                                        std::to_string(fs::file_size(input, size_ec)) == recorded_bytes;
    const auto osm_timestamp = r.catalog.count("input_osm_timestamp") ? r.catalog["input_osm_timestamp"]
                               : input_is_the_built_one             ? osm::pbf_timestamp(input)
                                                                    : std::string();
    r.tool = {{"version", tool_version()},
              {"gdal", GDALVersionInfo("RELEASE_NAME")},
              {"sqlite", sqlite3_libversion()},
              {"libosmium", LIBOSMIUM_VERSION_STRING},
              {"input", input},
              {"input_modified", input_is_the_built_one ? file_mtime(input) : std::string()},
              {"input_osm_timestamp", osm_timestamp}};

    r.files = count_files(out_dir);
    const auto seed = static_cast<std::uint64_t>(r.seed);
    r.gallery = seeded_sample(state, "written", seed, label_hash("report-gallery"), limits.gallery);
    add_cards(state, r.gallery);
    r.boxes = seeded_sample(state, "written", seed, label_hash("report-map"), limits.boxes);
    r.failed_boxes = seeded_sample(state, "failed", seed, label_hash("report-map"), limits.boxes);
    return r;
}

} // namespace skyscript::pipeline
