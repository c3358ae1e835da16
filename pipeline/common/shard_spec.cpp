#include "pipeline/common/shard_spec.hpp"

#include "pipeline/common/option_table.hpp"
#include "pipeline/common/seeded_hash.hpp"

#include <charconv>
#include <cstdlib>

namespace skyscript::pipeline {

namespace {

std::optional<std::int64_t> whole_number(const std::string& s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::int64_t env_number(const EnvLookup& env, const std::string& name) {
    const auto v = env(name);
    const auto n = v ? whole_number(*v) : std::nullopt;
    if (!n) throw UsageError("--shard auto: " + name + (v ? " is `" + *v + "`, not a whole number" : " is not set"));
    return *n;
}

} // namespace

// Independent of --seed: a worker's share of the objects is the same in every build.
bool ShardSpec::keeps(std::uint64_t object_key) const noexcept {
    return seeded_hash(label_hash("shard"), object_key) % static_cast<std::uint64_t>(count) == static_cast<std::uint64_t>(index);
}

std::string ShardSpec::text() const { return std::to_string(index) + "/" + std::to_string(count); }

// --shard-count's range says the same bound (option_table.hpp cannot name this constant).
static_assert(find_option_row("shard-count")->max == static_cast<double>(max_shards));

ShardSpec parse_shard(const std::string& text, const std::string& origin) {
    const auto slash = text.find('/');
    const auto i = slash == std::string::npos ? std::nullopt : whole_number(text.substr(0, slash));
    const auto n = slash == std::string::npos ? std::nullopt : whole_number(text.substr(slash + 1));
    const auto where = [&origin] { return origin == "--shard" ? origin : origin + ": --shard"; }; // not "--shard: --shard expects"
    if (!i || !n || *n < 1 || *i < 0 || *i >= *n)
        throw UsageError(where() + " expects i/N with 0 <= i < N (or auto), got `" + text + "`");
    // As many workers as a Kubernetes Indexed Job may have (Slurm's arrays are smaller): merge
    // lists the shards it is given and those missing, so N bounds what it holds.
    if (*n > max_shards)
        throw UsageError(where() + " " + text + ": at most " + std::to_string(max_shards) + " shards");
    return {*i, *n};
}

std::optional<ShardSpec> shard_of(const BuildOptions& options) {
    const auto t = options.text("shard");
    if (t.empty()) return std::nullopt;
    return parse_shard(t, "--shard");
}

void resolve_shard_option(BuildOptions& options, const EnvLookup& env) {
    const auto t = options.text("shard");
    // --shard-count is --shard auto's N: beside no --shard, or a --shard i/N with its own N, it
    // was dropped without a word (red-team round 31).
    if (t != "auto" && options.has("shard-count") && options.integer("shard-count") != 0)
        throw UsageError(t.empty() ? "--shard-count is the number of shards of --shard auto; without --shard the build is whole"
                                   : "--shard " + t + " gives its own number of shards; --shard-count is for --shard auto");
    if (t.empty()) return;
    if (t != "auto") {
        parse_shard(t, "--shard");
        return;
    }
    std::int64_t index = 0, count = 0;
    // The number of shards when given (--shard-count N or SKYSCRIPT_SHARD_COUNT); 0: not.
    const auto given_count = [&]() -> std::int64_t {
        if (const auto n = options.integer("shard-count")) return n;
        if (!env("SKYSCRIPT_SHARD_COUNT")) return 0;
        // Set, it is the count: 0 had been read as not set (red-team round 41).
        const auto n = env_number(env, "SKYSCRIPT_SHARD_COUNT");
        if (n < 1) throw UsageError("--shard auto: SKYSCRIPT_SHARD_COUNT is `" + *env("SKYSCRIPT_SHARD_COUNT") + "`: the number of shards is at least 1");
        return n;
    };
    if (env("SLURM_ARRAY_TASK_ID")) {
        const auto id = env_number(env, "SLURM_ARRAY_TASK_ID");
        // With the number of shards given, the task id is the shard (an array 0..N-1): a failed
        // task submitted again alone (`sbatch --array=5`, an array of one task) is still shard
        // 5 of N, not 0 of 1.
        if (const auto n = given_count()) {
            options.set("shard",
                        parse_shard(std::to_string(id) + "/" + std::to_string(n),
                                    "--shard auto (SLURM_ARRAY_TASK_ID as the shard of --shard-count or SKYSCRIPT_SHARD_COUNT: an array 0..N-1)")
                            .text(),
                        "--shard auto");
            return;
        }
        const auto min = env("SLURM_ARRAY_TASK_MIN") ? env_number(env, "SLURM_ARRAY_TASK_MIN") : 0;
        const auto step = env("SLURM_ARRAY_TASK_STEP") ? env_number(env, "SLURM_ARRAY_TASK_STEP") : 1;
        if (step < 1) throw UsageError("--shard auto: SLURM_ARRAY_TASK_STEP must be >= 1");
        index = (id - min) / step;
        count = env_number(env, "SLURM_ARRAY_TASK_COUNT");
    } else if (env("JOB_COMPLETION_INDEX")) {
        index = env_number(env, "JOB_COMPLETION_INDEX");
        count = given_count();
        if (count == 0)
            throw UsageError("--shard auto: JOB_COMPLETION_INDEX is set but not the number of shards; give --shard-count N "
                             "or SKYSCRIPT_SHARD_COUNT=N (the Job's completions)");
    } else {
        throw UsageError("--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes "
                         "Indexed Job) is set; give --shard i/N");
    }
    options.set("shard", parse_shard(std::to_string(index) + "/" + std::to_string(count), "--shard auto").text(), "--shard auto");
}

void resolve_shard_option(BuildOptions& options) {
    resolve_shard_option(options, [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    });
}

} // namespace skyscript::pipeline
