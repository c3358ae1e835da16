#include "pipeline/state/shard_set.hpp"

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_options.hpp"
#include "pipeline/common/option_table.hpp"
#include "pipeline/common/source_identity.hpp"
#include "pipeline/state/state_db.hpp"
#include "pipeline/state/state_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

ShardBuild read_shard(const std::string& dir) {
    ShardBuild b;
    b.dir = dir;
    b.state_path = BuildDir(dir).state_db();
    // A link, a FIFO, a folder there said as such, as status says it (red-team round 33: "no
    // state.sqlite here" for a state.sqlite that was a FIFO).
    if (std::error_code ec; !fs::exists(fs::symlink_status(own_file(b.state_path), ec)))
        throw std::runtime_error(dir + ": no state.sqlite here: not the OUT folder of a build");
    // Read as status reads it (read-only): a shard is another worker's record, which merge
    // must not change (nor give a state.sqlite that is no build's the tables of one), and may
    // sit where merge cannot write (another user's folder, a read-only mount).
    StateReader state(dir);
    if (std::error_code ec; state.immutable() && fs::file_size(b.state_path + "-wal", ec) > 0 && !ec)
        throw std::runtime_error(dir + ": its state DB has a write-ahead log (state.sqlite-wal) that may hold changes its worker did not fold in, "
                                       "which merge cannot read in a folder it may not write; rerun the worker there, or merge a copy of the shard");
    b.state_uri = state.uri();
    b.options = state.options();
    const auto it = b.options.find("shard");
    if (it == b.options.end() || it->second.empty())
        throw std::runtime_error(dir + ": built without --shard; merge joins the OUT folders of `--shard i/N` workers");
    b.spec = parse_shard(it->second, b.state_path);
    const auto counts = state.count_by_status();
    b.planned = counts.at("planned");
    b.fetched = counts.at("fetched");
    b.written = counts.at("written");
    b.failed = counts.at("failed");
    b.plan_finished = state.finished_stages().count("plan") > 0;
    b.sources_identity = state.sources_identity();
    b.catalog_identity = state.catalog_identity();
    return b;
}

std::string shown(const std::string& v) { return v.empty() ? std::string("none") : v; }

} // namespace

std::optional<std::pair<std::string, std::string>> differing_option(const std::map<std::string, std::string>& a,
                                                                    const std::map<std::string, std::string>& b, bool pixels_only) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a) keys.insert(k);
    for (const auto& [k, v] : b) keys.insert(k);
    // One input copied to each node's own disk is one input: the same bytes (input_fingerprint.hpp) under other paths.
    const auto digest = [](const std::map<std::string, std::string>& o) { return o.count("input-digest") ? o.at("input-digest") : ""; };
    const bool same_input = !digest(a).empty() && digest(a) == digest(b);
    // A shard of an older version has no digest: its input is compared by path and size alone.
    const bool one_digest = digest(a).empty() != digest(b).empty();
    for (const auto& k : keys) {
        if (k == "shard" || (k == "input" && same_input) || (k == "input-digest" && one_digest)) continue;
        const auto va = a.count(k) ? a.at(k) : "", vb = b.count(k) ? b.at(k) : "";
        const auto* row = find_option_row(k);
        if (pixels_only && row && row->stage != "extract" && row->stage != "plan" && row->stage != "fetch") continue;
        if (row ? same_option_value(*row, va, vb) : va == vb) continue; // --margin 0.10 is 0.1
        return std::pair{"--" + k + " " + shown(va), "--" + k + " " + shown(vb)};
    }
    return std::nullopt;
}

ShardSet check_shards(const std::vector<std::string>& dirs, bool partial) {
    if (dirs.empty()) throw UsageError("merge takes OUT and at least one SHARD_DIR");
    ShardSet set;
    std::map<std::int64_t, std::string> dir_of;
    for (const auto& dir : dirs) {
        auto b = read_shard(dir);
        if (!set.shards.empty()) {
            const auto& first = set.shards.front();
            if (b.spec.count != first.spec.count)
                throw std::runtime_error(dir + ": shard " + b.spec.text() + ", but " + first.dir + " is shard " + first.spec.text() +
                                         ": shards of different N do not mix");
            if (const auto differ = differing_option(b.options, first.options))
                throw std::runtime_error(dir + ": built with " + differ->first + ", but " + first.dir + " with " + differ->second +
                                         ": shards must share every option but --shard");
            if (!b.sources_identity.empty() && !first.sources_identity.empty())
                if (const auto why = sources_change(first.sources_identity, b.sources_identity, {}))
                    throw std::runtime_error(dir + ": not planned with the sources " + first.dir + " was (" + *why +
                                             "): the merged dataset would mix two imageries; build the shards with one sources file");
        }
        if (const auto [it, added] = dir_of.emplace(b.spec.index, dir); !added)
            throw std::runtime_error(dir + ": shard " + b.spec.text() + " again (also " + it->second + ")");
        set.shards.push_back(std::move(b));
    }
    set.count = set.shards.front().spec.count;
    std::string given;
    for (const auto& [i, d] : dir_of) given += (given.empty() ? "" : ", ") + std::to_string(i) + "/" + std::to_string(set.count);
    for (std::int64_t i = 0; i < set.count; ++i)
        if (!dir_of.count(i)) set.missing.push_back(i);
    if (!set.missing.empty() && !partial)
        throw std::runtime_error("merge: shard " + std::to_string(set.missing.front()) + "/" + std::to_string(set.count) + " is missing (" +
                                 std::to_string(set.missing.size()) + " of " + std::to_string(set.count) + "; given " + given +
                                 "); give every shard's OUT folder, or --partial");
    for (const auto& b : set.shards) {
        std::string why;
        if (!b.plan_finished) why = "not planned yet";
        else if (b.planned + b.fetched > 0)
            why = std::to_string(b.planned) + " jobs planned, " + std::to_string(b.fetched) + " fetched but not written";
        if (why.empty()) continue;
        if (!partial)
            throw std::runtime_error(b.dir + ": shard " + b.spec.text() + " is unfinished (" + why + "); rerun its worker, or merge with --partial");
        set.unfinished.push_back(b.dir + ": " + why);
    }
    std::sort(set.shards.begin(), set.shards.end(), [](const ShardBuild& a, const ShardBuild& b) { return a.spec.index < b.spec.index; });
    return set;
}

} // namespace skyscript::pipeline
