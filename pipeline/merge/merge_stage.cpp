#include "pipeline/merge/merge_stage.hpp"

#include "pipeline/catalog/catalog_identity.hpp"
#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/sqlite_db.hpp"
#include "pipeline/dataset/write_stage.hpp"
#include "pipeline/report/report_stage.hpp"
#include "pipeline/split/split_stage.hpp"
#include "pipeline/state/build_session.hpp"
#include "pipeline/state/merged_state.hpp"
#include "pipeline/state/state_reader.hpp"
#include "pipeline/state/shard_set.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <vector>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// OUT's images that no shard holds: fetched in OUT after an earlier merge (`fetch
// --retry-failed` on the merged dataset, as on any build). Merging again rebuilds OUT's state
// DB from the shards and its write stage removes the files no job names: they were lost, exit 0.
void refuse_work_done_in_out(const std::string& out_dir, const ShardSet& set) {
    // A bit a job id (global ids run from 0 to the job count: a planet's 50 M jobs take 6 MB);
    // an id beyond any plan's (a state DB edited by hand) in a set of its own.
    constexpr std::int64_t dense_limit = std::int64_t{1} << 32;
    std::vector<bool> in_shards;
    std::set<std::int64_t> sparse;
    for (const auto& shard : set.shards)
        StateReader(shard.dir).for_each_with_files([&](const JobFiles& f) {
            if (f.job_id < 0 || f.job_id >= dense_limit) return void(sparse.insert(f.job_id));
            if (static_cast<std::size_t>(f.job_id) >= in_shards.size()) in_shards.resize(static_cast<std::size_t>(f.job_id) + 1);
            in_shards[static_cast<std::size_t>(f.job_id)] = true;
        });
    const auto held = [&](std::int64_t id) {
        return id >= 0 && id < dense_limit ? static_cast<std::size_t>(id) < in_shards.size() && in_shards[static_cast<std::size_t>(id)] : sparse.count(id) > 0;
    };
    std::int64_t own = 0;
    std::string first;
    StateReader(out_dir).for_each_with_files([&](const JobFiles& f) {
        if (held(f.job_id)) return;
        if (own++ == 0) first = image_relative_path(f.part, f.stem);
    });
    if (own)
        throw std::runtime_error(out_dir + ": holds " + std::to_string(own) + " images no shard has (" + first +
                                 "; fetched in OUT since its merge): merging again would drop them; merge into a new folder, or fetch them in their "
                                 "shards (--retry-failed) first");
}

// Whether a polish answer cache holds an answer (one that cannot be read: judged as holding some).
bool holds_answers(const std::string& path) {
    if (!fs::exists(path)) return false;
    try {
        SqliteDb db(path, SQLITE_OPEN_READONLY);
        return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'answers'").step() &&
               db.prepare("SELECT 1 FROM answers LIMIT 1").step();
    } catch (const SqliteError&) {
        return true;
    }
}

void refuse_unsafe_out(const std::string& out_dir, const ShardSet& set) {
    std::error_code ec;
    for (const auto& s : set.shards)
        if (fs::exists(out_dir, ec) && fs::equivalent(out_dir, s.dir, ec))
            throw UsageError("merge: OUT " + out_dir + " is one of the shards; merge into a folder of its own");
    refuse_unless_merge_of(out_dir, set);
    if (const auto merged = BuildDir(out_dir).state_db(); fs::exists(merged)) {
        const auto merged_from = StateDb(merged, false).catalog_identity();
        const auto& first = set.shards.front();
        if (!merged_from.empty() && !first.catalog_identity.empty() && !catalog_differences(merged_from, first.catalog_identity, true).empty())
            throw std::runtime_error(out_dir + ": holds the merge of shards planned from another catalog than " + first.dir +
                                     "'s; merging there would replace that dataset: merge into a new folder");
        refuse_work_done_in_out(out_dir, set);
        // Captions polished in OUT since its merge (a merge makes no answer cache; a polish that
        // got no answer changed none): merging again put the shards' captions back, exit 0
        // (red-team round 41).
        if (holds_answers(BuildDir(out_dir).polish_answers()))
            throw std::runtime_error(out_dir + ": its captions were polished since its merge (" + BuildDir(out_dir).polish_answers() +
                                     "): merging again would put the shards' captions back; merge into a new folder and polish it with --reuse " +
                                     out_dir + " (its answers are taken from there, not asked again)");
    }
}

// Shards planned from catalogs of other contents (another tag list, --hidden rules, region,
// sampling or input) would mix two datasets; and the catalog OUT takes, the first shard's,
// must be the one that shard was planned from.
void refuse_mixed_catalogs(const ShardSet& set) {
    const auto& first = set.shards.front();
    for (const auto& s : set.shards) {
        if (s.catalog_identity.empty() || first.catalog_identity.empty()) continue; // planned before identities were recorded
        if (const auto keys = catalog_differences(first.catalog_identity, s.catalog_identity, true); !keys.empty())
            throw std::runtime_error(s.dir + ": not planned from the catalog " + first.dir + " was (they differ in " + keys +
                                     "): the merged dataset would mix two; build the shards from one catalog");
    }
    if (const auto catalog = BuildDir(first.dir).catalog(); fs::exists(catalog))
        check_same_catalog(first.catalog_identity, CatalogReader(catalog).meta(), first.dir, catalog, first.state_path);
}

// Whether a shard's image is as its worker wrote it: there, and of the size it recorded.
bool image_intact(const ShardBuild& shard, const JobFiles& f) {
    return placed_size((fs::path(shard.dir) / image_relative_path(f.part, f.stem)).string(), f.image_bytes).has_value();
}

// A shard whose images went or were cut short since its worker wrote them is refused like an
// unfinished one (its worker fetches them again); under --partial they are left out, and
// their jobs go back to be fetched. Returns each shard's damaged jobs, for place_shard_files.
std::vector<std::set<std::int64_t>> refuse_damaged_shards(const ShardSet& set, bool partial, bool quiet) {
    std::vector<std::set<std::int64_t>> damaged_of;
    for (const auto& shard : set.shards) {
        StateReader state(shard.dir);
        auto& damaged = damaged_of.emplace_back();
        std::string first;
        std::set<int> parts;
        state.for_each_with_files([&](const JobFiles& f) {
            // What no worker wrote, whatever --partial says: a stem its state DB was edited to
            // (`../../x`: placed and written outside OUT), a part folder linked elsewhere.
            if (!is_stem(f.stem))
                throw std::runtime_error(shard.dir + ": shard " + shard.spec.text() + "'s job " + std::to_string(f.job_id) +
                                         " has a file name no worker makes (its state DB was edited); rerun its worker into a new folder");
            if (parts.insert(f.part).second)
                for (const auto& folder : {images_dir(f.part), meta_dir(f.part)})
                    if (const auto why = BuildDir(shard.dir).not_own_dir(folder); !why.empty())
                        throw std::runtime_error(why + " (shard " + shard.spec.text() + "); make it the worker's own folder, or rerun its worker");
            if (image_intact(shard, f)) return;
            if (damaged.empty()) first = image_relative_path(f.part, f.stem);
            damaged.insert(f.job_id);
        });
        if (damaged.empty()) continue;
        const auto what = std::to_string(damaged.size()) + " images gone or not the size its worker wrote (" + first + ")";
        if (!partial) throw std::runtime_error(shard.dir + ": shard " + shard.spec.text() + " has " + what + "; rerun its worker, or merge with --partial");
        if (!quiet) std::printf("merge: --partial: %s: %s, to be fetched again\n", shard.dir.c_str(), what.c_str());
    }
    return damaged_of;
}

// The shard's images (jobs fetched or written) and meta (written) at their places in OUT. The
// images of `damaged` jobs are left out (refuse_damaged_shards let them through: --partial),
// a meta file gone too (the merge's write stage writes every meta file it lacks).
void place_shard_files(const ShardBuild& shard, const std::set<std::int64_t>& damaged, const std::string& out_dir, MergeSummary& summary,
                       Progress& progress, std::uint64_t total) {
    StateReader state(shard.dir);
    std::set<int> parts;
    const auto place = [&](const std::string& relative) {
        switch (place_file((fs::path(shard.dir) / relative).string(), (fs::path(out_dir) / relative).string())) {
            case Placement::linked: ++summary.linked; break;
            case Placement::copied: ++summary.copied; break;
            case Placement::present: ++summary.present; break;
        }
        const auto n = static_cast<std::uint64_t>(summary.linked + summary.copied + summary.present);
        if (n % 1000 == 0) progress.update(n, total, n, "files");
    };
    // Streamed, four columns a job: the fetched jobs had been read all at once, whole.
    state.for_each_with_files([&](const JobFiles& f) {
        if (parts.insert(f.part).second) {
            BuildDir(out_dir).own_dir(images_dir(f.part));
            BuildDir(out_dir).own_dir(meta_dir(f.part));
        }
        if (damaged.count(f.job_id)) return;
        place(image_relative_path(f.part, f.stem));
        // A meta file gone, cut short or made a link is left for the merge's write stage to write.
        if (f.status == JobStatus::written && placed_size((fs::path(shard.dir) / meta_relative_path(f.part, f.stem)).string(), f.meta_bytes))
            place(meta_relative_path(f.part, f.stem));
    });
}

} // namespace

MergeSummary run_merge(const std::string& out_dir, const std::vector<std::string>& shard_dirs, bool partial, bool quiet) {
    const auto start = std::chrono::steady_clock::now();
    const auto set = check_shards(shard_dirs, partial);
    refuse_mixed_catalogs(set);
    refuse_unsafe_out(out_dir, set);
    const auto damaged = refuse_damaged_shards(set, partial, quiet);
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir)) throw std::runtime_error(out_dir + ": cannot create output folder (" + (ec ? ec.message() : "not a folder") + ")");
    if (!quiet)
        for (const auto& u : set.unfinished) std::printf("merge: --partial: %s\n", u.c_str());

    MergeSummary summary;
    summary.shards = static_cast<std::int64_t>(set.shards.size());
    summary.count = set.count;
    summary.missing = static_cast<std::int64_t>(set.missing.size());
    summary.unfinished = static_cast<std::int64_t>(set.unfinished.size());
    // The DB first (it refuses overlapping shards before a file is placed), installed last.
    const auto merging = build_merged_state(set, out_dir);
    std::uint64_t total = 0;
    for (const auto& s : set.shards) total += static_cast<std::uint64_t>(2 * s.written + s.fetched);
    {
        Progress progress{"merge", quiet, Progress::Unit::counted};
        for (std::size_t i = 0; i < set.shards.size(); ++i) place_shard_files(set.shards[i], damaged[i], out_dir, summary, progress, total);
        progress.finish();
    }
    if (const auto catalog = fs::path(BuildDir(set.shards.front().dir).catalog()); fs::exists(catalog))
        place_file(fs::canonical(catalog).string(), BuildDir(out_dir).catalog()); // a shard may link a shared catalog
    install_merged_state(merging, out_dir);

    // One machine's last stages over the whole: meta.jsonl (and meta of images fetched but not
    // written, under --partial; files no job names are removed), the split, the report.
    BuildSession session;
    session.out_dir = out_dir;
    session.state = std::make_unique<StateDb>(BuildDir(out_dir).state_db(), false);
    session.options.merge_stored(session.state->options(), BuildDir(out_dir).state_db());
    session.quiet = quiet;
    summary.images = run_recorded(session, "write", stage_write).count;
    summary.split_images = summary.images > 0 ? run_recorded(session, "split", stage_split).count : 0;
    run_recorded(session, "report", stage_report);
    for (const auto& [status, n] : session.state->count_by_status()) summary.jobs += n;
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    record_stage(*session.state, "merge",
                 StageSummary::finished(summary.seconds, nlohmann::json{{"shards", summary.shards}, {"count", summary.count},
                                                                        {"missing", summary.missing}, {"unfinished", summary.unfinished},
                                                                        {"jobs", summary.jobs}, {"images", summary.images}}
                                                             .dump()));
    return summary;
}

void print_merge_summary(const MergeSummary& s, const std::string& out_dir) {
    std::printf("merge: %lld of %lld shards, %lld jobs, %lld images in %s (%lld files linked, %lld copied, %lld already there) (%.2f s)\n",
                static_cast<long long>(s.shards), static_cast<long long>(s.count), static_cast<long long>(s.jobs),
                static_cast<long long>(s.images), out_dir.c_str(), static_cast<long long>(s.linked), static_cast<long long>(s.copied),
                static_cast<long long>(s.present), s.seconds);
    if (s.missing || s.unfinished)
        std::printf("  --partial: %lld shards missing, %lld unfinished\n", static_cast<long long>(s.missing), static_cast<long long>(s.unfinished));
}

} // namespace skyscript::pipeline
