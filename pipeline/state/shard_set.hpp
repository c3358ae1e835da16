#pragma once
// The OUT folders of `--shard i/N` workers, checked before `merge` joins them: each one a
// shard of the same N, every recorded option but `shard` the same (same input, seed,
// sources, tags, ...), the same sources by what defines their pixels (source_identity.hpp:
// a sources file edited between two workers' starts), no index twice, none missing, each finished (no job planned or
// fetched but not written). A shard that fails a check is refused with one line naming
// its folder; --partial lets unfinished and missing shards through (the merged dataset
// then has only the images that are there).

#include "pipeline/common/shard_spec.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct ShardBuild {
    std::string dir, state_path;
    std::string state_uri; // how merge reads it: read-only (StateReader::uri), for an ATTACH
    ShardSpec spec;
    std::map<std::string, std::string> options;
    std::string sources_identity, catalog_identity; // as the shard's plan recorded them ("" before they were)
    std::int64_t planned = 0, fetched = 0, written = 0, failed = 0;
    bool plan_finished = false;
};

struct ShardSet {
    std::int64_t count = 0;                 // N
    std::vector<ShardBuild> shards;         // in index order
    std::vector<std::int64_t> missing;      // indices no folder holds (only with --partial)
    std::vector<std::string> unfinished;    // "DIR: ..." (only with --partial)
};

// The first recorded option two builds differ in, as "--NAME VALUE" for each ("none" when
// not recorded), leaving out `shard`, and the input's path when both name the same bytes;
// values are compared by what they say (--margin 0.10 is 0.1; a path relative or absolute).
// `pixels_only`: only the options of the stages up to fetch, which make the jobs and images
// (a merge's output may since have been split or polished with options of its own).
std::optional<std::pair<std::string, std::string>> differing_option(const std::map<std::string, std::string>& a,
                                                                    const std::map<std::string, std::string>& b, bool pixels_only = false);

ShardSet check_shards(const std::vector<std::string>& dirs, bool partial);

} // namespace skyscript::pipeline
