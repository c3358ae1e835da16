#include "pipeline/dataset/write_stage.hpp"

#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/source_identity.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/dataset/meta_record.hpp"
#include "pipeline/fetch/disk_check.hpp"
#include "pipeline/state/build_session.hpp"
#include "tag_filters/utf8_text.hpp"

#include <nlohmann/json.hpp>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <optional>
#include <string_view>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

void append_csv_field(std::string& out, const std::string& field) {
    // A stray byte (a state DB edited, or planned by an old version) becomes U+FFFD, as in
    // meta.jsonl: the CSV had held it raw, and python's reader stopped at it (red-team round 42).
    if (!tags::is_valid_utf8(field)) return append_csv_field(out, tags::valid_utf8(field));
    if (field.find_first_of(",\"\r\n") == std::string::npos) {
        out += field;
        return;
    }
    out.push_back('"');
    for (char c : field) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

namespace {

constexpr std::size_t batch_size = 256;

// The part of an images{part} or meta{part} folder of OUT (`name` starts with that word);
// nullopt for any other name, such as images01 or images_old.
std::optional<int> part_of_dir(const std::string& name, bool images) {
    const std::size_t digits = images ? std::string_view("images").size() : std::string_view("meta").size();
    int part = 0;
    const char* end = name.data() + name.size();
    const auto [stop, error] = std::from_chars(name.data() + digits, end, part);
    if (error != std::errc() || stop != end || (images ? images_dir(part) : meta_dir(part)) != name) return std::nullopt;
    return part;
}

// Removes files in images*/ and meta*/ that no written job names, and scratch files: each file
// asked of the state DB by its part and stem (an index lookup), so memory stays flat however
// many jobs (a set of every expected name held ~200 bytes a job).
std::int64_t remove_orphans(const std::string& out_dir, StateDb& state) {
    std::int64_t n = 0;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(out_dir, ec)) {
        const auto name = dir.path().filename().string();
        // Not through a link (own_dir refuses one where the build writes): its files are not the build's.
        if (dir.is_symlink() || !dir.is_directory() || !(name.starts_with("images") || name.starts_with("meta"))) continue;
        const bool images = name.starts_with("images");
        const auto part = part_of_dir(name, images);
        const std::string_view extension = images ? ".jpg" : ".pickle";
        for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
            const auto file = f.path().filename().string();
            if (part && file.ends_with(extension) && state.names_written(*part, std::string_view(file).substr(0, file.size() - extension.size())))
                continue;
            if (fs::remove(f.path(), ec)) ++n;
        }
    }
    return n;
}

} // namespace

std::vector<std::int64_t> write_meta_pickles(const std::string& out_dir, const std::vector<Job>& jobs) {
    std::vector<std::int64_t> bytes(jobs.size());
    // Each pickle is its own file: made and written on every core (an error is rethrown here).
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, jobs.size(), 32), [&](const tbb::blocked_range<std::size_t>& r) {
        for (auto i = r.begin(); i != r.end(); ++i) {
            const auto pickle = meta_pickle(jobs[i]);
            write_file_atomically(BuildDir(out_dir).meta(jobs[i].part, jobs[i].stem), pickle);
            bytes[i] = static_cast<std::int64_t>(pickle.size());
        }
    });
    return bytes;
}

std::int64_t write_meta_jsonl(const std::string& out_dir, StateDb& state) {
    // The JSON Lines mirror, from the state DB (the CSVs are the split stage's).
    AtomicFileWriter jsonl_file(BuildDir(out_dir).meta_jsonl());
    std::int64_t rows = 0;
    // Lines made on every core a batch at a time, appended in job order.
    std::vector<Job> jobs;
    std::vector<std::string> lines;
    auto flush = [&] {
        lines.resize(jobs.size());
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, jobs.size(), 32), [&](const tbb::blocked_range<std::size_t>& r) {
            for (auto i = r.begin(); i != r.end(); ++i) lines[i] = meta_json_line(jobs[i]);
        });
        for (const auto& line : lines) jsonl_file.append(line);
        jobs.clear();
    };
    state.for_each_written([&](const Job& job) {
        ++rows;
        jobs.push_back(job);
        if (jobs.size() == batch_size) flush();
    });
    flush();
    jsonl_file.commit();
    return rows;
}

WriteSummary run_write(const std::string& out_dir, const BuildOptions&, StateDb& state, bool quiet) {
    const auto start = std::chrono::steady_clock::now();
    WriteSummary summary;
    // meta.jsonl, report.json, ... under their temporary names, left by a killed run.
    remove_partial_files(out_dir);
    const auto total = static_cast<std::uint64_t>(state.count_by_status()["fetched"]);
    Progress progress{"write", quiet, Progress::Unit::counted};
    std::set<int> parts_ready;
    for (;;) {
        const auto batch = state.jobs(JobStatus::fetched, "", -1, batch_size);
        if (batch.empty()) break;
        std::vector<std::int64_t> ids;
        for (const auto& job : batch) {
            if (parts_ready.insert(job.part).second) {
                const auto dir = BuildDir(out_dir).own_dir(meta_dir(job.part));
                remove_partial_files(dir);
            }
            ids.push_back(job.job_id);
        }
        state.record_written(ids, write_meta_pickles(out_dir, batch));
        summary.written_now += static_cast<std::int64_t>(ids.size());
        progress.update(static_cast<std::uint64_t>(summary.written_now), total, static_cast<std::uint64_t>(summary.written_now), "meta files");
    }
    progress.finish();

    summary.rows = write_meta_jsonl(out_dir, state);
    summary.orphans_removed = remove_orphans(out_dir, state);
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

void print_write_summary(const WriteSummary& s, const std::string& out_dir) {
    std::printf("write: %lld meta files written now; %lld rows in %s/meta.jsonl (%.2f s)\n",
                static_cast<long long>(s.written_now), static_cast<long long>(s.rows), out_dir.c_str(), s.seconds);
    if (s.orphans_removed) std::printf("  removed %lld files no written job names\n", static_cast<long long>(s.orphans_removed));
}

namespace {

// The sources' terms (licence, attribution) as the sources file gives them now: an OUT planned
// before the plan recorded them has none, and a sources file whose terms were corrected since
// (they change no pixel, so the rerun goes on) had its correction ignored without a word. They
// are recorded now, and every meta pickle already written is made again with them (once).
// False when there was nothing to do or the sources cannot be read any more.
bool record_changed_source_terms(BuildSession& s) {
    std::vector<imagery::SourceConfig> sources;
    try {
        sources = configured_sources(s.options.text("sources"));
    } catch (const std::exception&) {
        return false; // its images keep the terms recorded ("unknown" when none)
    }
    if (s.state->has_source_terms()) {
        // Only the file the build's images were made with: one edited for other imagery under
        // the same aliases (the fetch refuses it) must not lend the old images its terms.
        if (const auto before = s.state->sources_identity(); !before.empty() && sources_change(before, sources_identity(sources), sources)) return false;
        const auto recorded = s.state->source_terms();
        bool same = true;
        for (const auto& c : sources)
            if (const auto it = recorded.find(c.alias); it != recorded.end() && it->second != std::pair(c.licence, c.attribution)) same = false;
        if (same) return false;
    }
    s.state->meta_files_due(); // first: killed after the terms are stored, a resume still remakes the pickles not yet made
    // The recorded terms of sources no longer in the file are kept (merged shards, say).
    auto terms = s.state->source_terms();
    for (const auto& c : sources) terms[c.alias] = {c.licence, c.attribution};
    s.state->store_source_terms(terms);
    for (std::int64_t after = -1;;) {
        const auto batch = s.state->jobs(JobStatus::written, "", after, batch_size);
        if (batch.empty()) break;
        s.state->record_meta_bytes(batch, write_meta_pickles(s.out_dir, batch));
        after = batch.back().job_id;
    }
    return true;
}

} // namespace

StageSummary stage_write(BuildSession& s) {
    restore_outputs_once(s, "write");
    if (record_changed_source_terms(s) && !s.quiet) std::printf("write: recorded the sources' licences and attribution, and made every meta file again with them\n");
    const auto summary = run_write(s.out_dir, s.options, *s.state, s.quiet);
    if (!s.quiet) print_write_summary(summary, s.out_dir);
    return StageSummary::finished(summary.seconds, nlohmann::json{{"rows", summary.rows}}.dump(), summary.rows);
}

} // namespace skyscript::pipeline
