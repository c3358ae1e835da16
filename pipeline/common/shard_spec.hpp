#pragma once
// --shard i/N (docs/scale.md): worker i of N plans the whole deterministic job list and
// keeps the jobs of the objects whose stable hash is i mod N, with their global job ids,
// so N shards merged are one machine's build. `--shard auto` takes i and N from the
// scheduler that started the worker:
//   Slurm job array    SLURM_ARRAY_TASK_ID of --shard-count N or SKYSCRIPT_SHARD_COUNT
//                      (an array 0..N-1: a task submitted again alone keeps its shard);
//                      without them SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN, over
//                      SLURM_ARRAY_TASK_STEP) of SLURM_ARRAY_TASK_COUNT;
//   Kubernetes Indexed Job  JOB_COMPLETION_INDEX of --shard-count N, or of the
//                      SKYSCRIPT_SHARD_COUNT environment variable (Kubernetes does not
//                      pass the completion count itself).
// OUT records the resolved "i/N" (a plan option): a worker rerun continues its own shard,
// and `merge` refuses shards of different N.

#include "pipeline/common/build_options.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace skyscript::pipeline {

struct ShardSpec {
    std::int64_t index = 0, count = 1;
    bool keeps(std::uint64_t object_key) const noexcept;
    std::string text() const; // "i/N"
};

// The most shards a build may have: a Kubernetes Indexed Job's most completions.
constexpr std::int64_t max_shards = 100000;

// "i/N" with 0 <= i < N <= max_shards; throws UsageError naming `origin` otherwise.
ShardSpec parse_shard(const std::string& text, const std::string& origin);
// The shard OUT's options ask for; nullopt when the build is not sharded (--shard "").
std::optional<ShardSpec> shard_of(const BuildOptions& options);

// `--shard auto` -> "i/N" from the environment (`env` returns nullopt for an unset name);
// other values are checked and left as they are.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
void resolve_shard_option(BuildOptions& options, const EnvLookup& env);
void resolve_shard_option(BuildOptions& options); // from the process environment

} // namespace skyscript::pipeline
