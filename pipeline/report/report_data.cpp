#include "pipeline/report/report_data.hpp"

#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/dataset_layout.hpp"
#include "pipeline/report/failure_class.hpp"
#include "pipeline/report/read_only_state.hpp"
#include "pipeline/common/seeded_hash.hpp"

#include <gdal.h>
#include <nlohmann/json.hpp>
#include <osmium/io/pbf_input.hpp>
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
    c.jsonl_lines = count_lines((fs::path(out_dir) / "meta.jsonl").string());
    return c;
}

// The PBF header's replication timestamp: which OSM data the build was made from.
std::string pbf_timestamp(const std::string& input) {
    try {
        if (input.empty() || !fs::is_regular_file(input)) return "";
        osmium::io::Reader reader{input, osmium::osm_entity_bits::nothing};
        auto header = reader.header();
        reader.close();
        auto t = header.get("osmosis_replication_timestamp");
        return t.empty() ? header.get("timestamp") : t;
    } catch (const std::exception&) {
        return "";
    }
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

ReportImage read_image(SqliteStatement& q) {
    ReportImage im;
    im.job_id = q.column_int(0);
    im.stem = q.column_text(1);
    im.path = image_relative_path(static_cast<int>(q.column_int(2)), im.stem);
    im.source = q.column_text(3);
    im.focus_tag = q.column_text(4);
    im.west = q.column_double(5);
    im.south = q.column_double(6);
    im.east = q.column_double(7);
    im.north = q.column_double(8);
    im.gsd = q.column_double(9);
    im.year = static_cast<int>(q.column_int(10));
    return im;
}

// The `keep` jobs of `status` with the smallest seeded hash of their job id: a sample that
// a rebuild with the same seed shows again, in one pass over any number of jobs.
std::vector<ReportImage> seeded_sample(SqliteDb& db, const char* status, std::uint64_t seed, std::uint64_t purpose, std::size_t keep) {
    using Entry = std::pair<std::uint64_t, ReportImage>;
    auto cmp = [](const Entry& a, const Entry& b) { return a.first < b.first; };
    std::priority_queue<Entry, std::vector<Entry>, decltype(cmp)> heap(cmp); // largest hash on top
    auto q = db.prepare("SELECT job_id, coalesce(stem, id_part), part, source, focus_tag, west, south, east, north, gsd, year FROM jobs WHERE status = ?");
    q.bind(1, std::string_view(status));
    while (q.step()) {
        const auto h = seeded_hash(seed, purpose, static_cast<std::uint64_t>(q.column_int(0)));
        if (heap.size() < keep) heap.emplace(h, read_image(q));
        else if (keep > 0 && h < heap.top().first) heap.pop(), heap.emplace(h, read_image(q));
    }
    std::vector<Entry> entries;
    while (!heap.empty()) entries.push_back(heap.top()), heap.pop();
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
    std::vector<ReportImage> out;
    for (auto& [h, im] : entries) out.push_back(std::move(im));
    return out;
}

void add_captions(SqliteDb& db, std::vector<ReportImage>& images) {
    auto q = db.prepare("SELECT title, title_multi_objects FROM jobs WHERE job_id = ?");
    for (auto& im : images) {
        q.bind(1, im.job_id);
        if (q.step()) im.title = q.column_text(0), im.title_multi_objects = q.column_text(1);
        q.reset();
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
    auto db_ptr = open_state_read_only(out_dir);
    SqliteDb& db = *db_ptr;

    auto scalar = [&](const char* sql) {
        auto q = db.prepare(sql);
        return q.step() ? q.column_int(0) : std::int64_t{0};
    };

    r.jobs_by_status = {{"planned", 0}, {"fetched", 0}, {"written", 0}, {"failed", 0}};
    {
        auto q = db.prepare("SELECT source, status, count(*) FROM jobs GROUP BY source, status");
        while (q.step()) {
            const auto n = q.column_int(2);
            r.source_status[q.column_text(0)][q.column_text(1)] = n;
            r.jobs_by_status[q.column_text(1)] += n;
            r.jobs += n;
        }
    }
    r.pairs = r.jobs_by_status["written"];
    r.failed = r.jobs_by_status["failed"];
    r.distinct_focus_tags = scalar("SELECT count(DISTINCT focus_tag) FROM jobs WHERE status = 'written'");
    r.distinct_tags = scalar("SELECT count(DISTINCT t.key || '=' || t.value) FROM jobs, json_each(jobs.center_tags) t WHERE jobs.status = 'written'");
    r.distinct_titles = scalar("SELECT count(DISTINCT title) FROM jobs WHERE status = 'written'");
    r.distinct_multi_titles = scalar("SELECT count(DISTINCT title_multi_objects) FROM jobs WHERE status = 'written'");

    auto group = [&](const char* sql, auto&& put) {
        auto q = db.prepare(sql);
        while (q.step()) put(q);
    };
    group("SELECT source, count(*) FROM jobs WHERE status = 'written' GROUP BY source",
          [&](auto& q) { r.pairs_by_source[q.column_text(0)] = q.column_int(1); });
    group("SELECT coalesce(year, 0), count(*) FROM jobs WHERE status = 'written' GROUP BY 1",
          [&](auto& q) { r.pairs_by_year[std::to_string(q.column_int(0))] = q.column_int(1); });
    group("SELECT kind, count(*) FROM jobs WHERE status = 'written' GROUP BY kind",
          [&](auto& q) { r.pairs_by_kind[q.column_text(0)] = q.column_int(1); });
    group("SELECT round(gsd, 2), count(*) FROM jobs WHERE status = 'written' GROUP BY 1",
          [&](auto& q) { r.pairs_by_gsd[q.column_double(0)] = q.column_int(1); });
    group("SELECT focus_tag, count(*) AS n FROM jobs WHERE status = 'written' GROUP BY focus_tag ORDER BY n DESC, focus_tag", [&](auto& q) {
        const auto n = q.column_int(1);
        if (r.top_tags.size() < limits.top_tags) r.top_tags.emplace_back(q.column_text(0), n);
        r.tag_image_counts.push_back(n);
    });
    r.tag_curve = tag_curve(r.tag_image_counts);
    group("SELECT coalesce(sum(reused), 0), count(*) FROM jobs WHERE status IN ('fetched', 'written')", [&](auto& q) {
        r.reused = q.column_int(0);
        r.fetched_anew = q.column_int(1) - r.reused;
    });
    group("SELECT reason, objects FROM skipped", [&](auto& q) {
        r.skipped[q.column_text(0)] = q.column_int(1);
        r.skipped_total += q.column_int(1);
    });

    {
        // Distinct messages by class; each class's example is its first job.
        struct Class {
            std::int64_t jobs = 0, example_job = INT64_MAX;
            std::string example_reason;
        };
        std::map<std::string, Class> classes;
        auto q = db.prepare("SELECT coalesce(reason, ''), count(*), min(job_id) FROM jobs WHERE status = 'failed' GROUP BY 1");
        while (q.step()) {
            ++r.failure_messages_total;
            auto& c = classes[failure_class(q.column_text(0))];
            c.jobs += q.column_int(1);
            if (q.column_int(2) < c.example_job) c.example_job = q.column_int(2), c.example_reason = q.column_text(0);
        }
        r.failure_reasons_total = static_cast<std::int64_t>(classes.size());
        for (const auto& [reason, c] : classes) r.failures.push_back({reason, c.jobs, std::to_string(c.example_job), c.example_reason});
        std::stable_sort(r.failures.begin(), r.failures.end(), [](const auto& a, const auto& b) { return a.jobs > b.jobs; });
        if (r.failures.size() > limits.failures) r.failures.resize(limits.failures);
        auto job = db.prepare("SELECT id_part, focus_tag, source, attempts FROM jobs WHERE job_id = ?");
        for (auto& f : r.failures) {
            job.bind(1, static_cast<std::int64_t>(std::stoll(f.example)));
            if (job.step())
                f.example = job.column_text(0) + " " + job.column_text(1) + " (" + job.column_text(2) + "), " + std::to_string(job.column_int(3)) +
                            (job.column_int(3) == 1 ? " attempt" : " attempts");
            job.reset();
        }
    }

    r.stages = read_stage_runs(db);
    for (const auto& run : r.stages)
        if (run.stage == "fetch" && !run.summary_json.empty())
            r.reuse_not_needed = nlohmann::json::parse(run.summary_json).value("reuse_unused", std::int64_t{0});
    group("SELECT key, value FROM options", [&](auto& q) { r.options[q.column_text(0)] = q.column_text(1); });
    if (auto it = r.options.find("seed"); it != r.options.end()) r.seed = std::atoll(it->second.c_str());

    const auto catalog = (fs::path(out_dir) / "catalog.gpkg").string();
    if (fs::exists(catalog)) {
        try {
            r.catalog = CatalogReader(catalog).meta();
        } catch (const std::exception&) { // a catalog being written: the report goes without it
        }
    }
    const auto input = r.options.count("input") ? r.options["input"] : (r.catalog.count("input") ? r.catalog["input"] : "");
    r.tool = {{"version", tool_version()},
              {"gdal", GDALVersionInfo("RELEASE_NAME")},
              {"sqlite", sqlite3_libversion()},
              {"libosmium", LIBOSMIUM_VERSION_STRING},
              {"input", input},
              {"input_modified", file_mtime(input)},
              {"input_osm_timestamp", pbf_timestamp(input)}};

    r.files = count_files(out_dir);
    const auto seed = static_cast<std::uint64_t>(r.seed);
    r.gallery = seeded_sample(db, "written", seed, label_hash("report-gallery"), limits.gallery);
    add_captions(db, r.gallery);
    r.boxes = seeded_sample(db, "written", seed, label_hash("report-map"), limits.boxes);
    r.failed_boxes = seeded_sample(db, "failed", seed, label_hash("report-map"), limits.boxes);
    return r;
}

} // namespace skyscript::pipeline
