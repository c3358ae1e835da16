#include "pipeline/state/merged_state.hpp"

#include "pipeline/common/absolute_path.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/sqlite_db.hpp"
#include "imagery/json_depth.hpp"
#include "pipeline/state/state_db.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> columns(SqliteDb& db, const std::string& schema) {
    std::vector<std::string> out;
    auto q = db.prepare("PRAGMA " + schema + ".table_info(jobs)");
    while (q.step()) out.push_back(q.column_text(1));
    return out;
}

void remove_database(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
}

struct StageRow {
    double seconds = 0;
    nlohmann::json summary;
};

// One machine's record of a stage from the shards': counts summed where each shard has its
// own (`summed`), the rest from the first shard; the seconds of the slowest (they ran at once).
StageRow combine(const std::vector<StageRow>& rows, const std::set<std::string>& summed) {
    StageRow out = rows.front();
    for (std::size_t i = 1; i < rows.size(); ++i) {
        out.seconds = std::max(out.seconds, rows[i].seconds);
        for (const auto& key : summed)
            if (out.summary.contains(key) && rows[i].summary.contains(key) && out.summary[key].is_number_integer())
                out.summary[key] = out.summary[key].get<std::int64_t>() + rows[i].summary[key].get<std::int64_t>();
    }
    return out;
}

// The shards' common options (`shard` cleared) and one machine's record of the stages.
void write_options_and_stages(SqliteDb& db, const ShardSet& set, std::map<std::string, std::vector<StageRow>>& stages) {
    db.exec("BEGIN");
    auto put = db.prepare("INSERT OR REPLACE INTO options VALUES (?, ?)");
    for (const auto& [k, v] : set.shards.front().options) {
        const std::string value = k == "shard" ? std::string() : v; // bound, not copied, by SQLite
        put.bind(1, k).bind(2, value);
        put.step();
        put.reset();
    }
    // What the plans were made from (check_shards found the sources one): a later run on the
    // merged OUT checks its catalog and sources against them, as it would a single build's.
    for (const auto& [table, identity] : {std::pair{"sources_identity", set.shards.front().sources_identity},
                                          std::pair{"catalog_identity", set.shards.front().catalog_identity}})
        if (!identity.empty()) {
            auto q = db.prepare(std::string("INSERT OR REPLACE INTO ") + table + " VALUES (1, ?)");
            q.bind(1, identity);
            q.step();
        }
    auto stage = db.prepare("INSERT OR REPLACE INTO stages VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?, ?)");
    const auto record = [&](const std::string& name, const StageRow& row) {
        const auto summary = row.summary.dump();
        stage.bind(1, name).bind(2, row.seconds).bind(3, summary);
        stage.step();
        stage.reset();
    };
    const auto everyone = [&](const char* name) { return stages.count(name) && stages[name].size() == set.shards.size() && set.missing.empty(); };
    if (everyone("extract")) record("extract", combine(stages["extract"], {}));
    if (everyone("plan")) record("plan", combine(stages["plan"], {"jobs"}));
    if (everyone("fetch")) record("fetch", combine(stages["fetch"], {"fetched", "failed", "requests", "reused", "reuse_unused", "flat"}));
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& s : set.shards) shards.push_back({{"shard", s.spec.text()}, {"dir", absolute_path(s.dir)}});
    record("merge", {0, nlohmann::json{{"shards", shards}, {"count", set.count}, {"missing", set.missing}, {"unfinished", set.unfinished}}});
    db.exec("COMMIT");
}

} // namespace

void refuse_unless_merge_of(const std::string& out_dir, const ShardSet& set) {
    const auto path = BuildDir(out_dir).state_db();
    if (!fs::exists(path)) return;
    StateDb state(path, false);
    std::int64_t jobs = 0;
    for (const auto& [status, n] : state.count_by_status()) jobs += n;
    if (!state.stage_finished("merge")) {
        if (jobs == 0) return;
        throw std::runtime_error(out_dir + ": holds a build that merge did not make; merge into a new folder");
    }
    // A merge's output: a rerun may finish or repeat it, with shards of the same dataset (its
    // catalog is compared by merge_stage, which knows what a catalog's identity holds).
    const auto& first = set.shards.front();
    if (const auto differ = differing_option(first.options, state.options(), true))
        throw std::runtime_error(out_dir + ": holds the merge of shards built with " + differ->second + ", but " + first.dir + " was built with " +
                                 differ->first + "; merging there would replace that dataset: merge into a new folder");
}

namespace {
std::string build_merged_state_at(const ShardSet& set, const std::string& out_dir);
} // namespace

std::string build_merged_state(const ShardSet& set, const std::string& out_dir) {
    // A refusal (shards that overlap) leaves no state.sqlite.merging behind: status and the
    // stages would then say to run the merge again, which fails the same way.
    try {
        return build_merged_state_at(set, out_dir);
    } catch (...) {
        remove_database(BuildDir(out_dir).merging_state_db());
        throw;
    }
}

namespace {

std::string build_merged_state_at(const ShardSet& set, const std::string& out_dir) {
    const auto path = BuildDir(out_dir).merging_state_db();
    remove_database(path); // a killed merge's
    { StateDb schema(path, true); }
    SqliteDb db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI); // URI: each shard is attached read-only
    sqlite3_busy_timeout(db.handle(), 10000);
    // No WAL for a file about to be renamed: everything is in the one file when it closes.
    db.exec("PRAGMA journal_mode = DELETE; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;");
    const auto mine = columns(db, "main");
    std::map<std::string, std::vector<StageRow>> stages;
    bool polish_stopped = false;
    for (const auto& shard : set.shards) {
        {
            auto attach = db.prepare("ATTACH DATABASE ?1 AS shard");
            attach.bind(1, shard.state_uri);
            attach.step();
        }
        const auto theirs = columns(db, "shard");
        std::string list;
        for (const auto& c : mine)
            if (std::find(theirs.begin(), theirs.end(), c) != theirs.end()) list += (list.empty() ? "" : ", ") + c;
        db.exec("BEGIN");
        try {
            db.exec("INSERT INTO main.jobs (" + list + ") SELECT " + list + " FROM shard.jobs");
        } catch (const SqliteError& e) {
            db.exec("ROLLBACK");
            // Only a job id already taken is an overlap: out of memory here was told as one
            // (red-team round 33), sending the user to rebuild good shards.
            if (e.code() != SQLITE_CONSTRAINT_PRIMARYKEY) throw;
            throw std::runtime_error(shard.dir + ": its job ids overlap another shard's: the shards are not of one plan (" + e.what() + ")");
        }
        db.exec("INSERT INTO main.skipped SELECT reason, objects FROM shard.skipped WHERE true "
                "ON CONFLICT(reason) DO UPDATE SET objects = objects + excluded.objects");
        // The sources' terms (a shard planned before they were recorded has none).
        if (auto t = db.prepare("SELECT 1 FROM shard.sqlite_master WHERE name = 'source_terms'"); t.step())
            db.exec("INSERT OR IGNORE INTO main.source_terms SELECT alias, licence, attribution FROM shard.source_terms");
        db.exec("COMMIT");
        // A shard whose polish run stopped part way: the merged OUT owes that polish too.
        if (db.prepare("SELECT 1 FROM shard.sqlite_master WHERE name = 'polish_started'").step() &&
            db.prepare("SELECT 1 FROM shard.polish_started").step() && !db.prepare("SELECT 1 FROM shard.stages WHERE stage = 'polish'").step())
            polish_stopped = true;
        {
            auto q = db.prepare("SELECT stage, seconds, summary FROM shard.stages");
            while (q.step()) {
                const auto summary = imagery::parse_json_within_depth(q.column_text(2));
                stages[q.column_text(0)].push_back({q.column_double(1), summary.is_object() ? summary : nlohmann::json::object()});
            }
        }
        db.exec("DETACH DATABASE shard");
    }
    {
        auto q = db.prepare("SELECT part, stem FROM jobs WHERE stem IS NOT NULL GROUP BY part, stem HAVING count(*) > 1 LIMIT 1");
        if (q.step())
            throw std::runtime_error(out_dir + ": two shards' jobs both name images" + std::to_string(q.column_int(0)) + "/" + q.column_text(1) +
                                     ".jpg: the shards are not of one plan");
    }
    write_options_and_stages(db, set, stages);
    if (polish_stopped) db.exec("INSERT OR REPLACE INTO polish_started VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ','now'))");
    db.close();
    return path;
}

} // namespace


void install_merged_state(const std::string& merging_path, const std::string& out_dir) {
    const auto path = BuildDir(out_dir).state_db();
    std::error_code ec;
    // The replaced DB's WAL or rollback journal must not be applied to the new file.
    for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
    fs::rename(merging_path, path, ec);
    if (ec) throw std::runtime_error(path + ": cannot write (" + ec.message() + ")");
}

} // namespace skyscript::pipeline
