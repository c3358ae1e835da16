#pragma once
// WebDataset shards (docs/dataset-format.md): OUT_DIR/{shard:05d}.tar, each sample's members
// ({key}.jpg, {key}.txt, {key}.json) adjacent, a new shard after about `max_samples`
// samples or `max_bytes` bytes (0 = no bound), then sizes.json (shard file name -> sample
// count, which OpenCLIP's webdataset loader reads) and stats.json (per shard: samples,
// bytes). WebDataset cuts a member name at its first dot to find the key, so a key with a
// dot is refused. Each shard is written under a temporary name and renamed when complete;
// shards of an earlier run that this one did not write are removed.
//
// The tar format is POSIX ustar (IEEE 1003.1-1988): a 512-byte header per member, the
// data padded to 512 bytes, two zero blocks at the end. Every header field that could vary
// between runs (mtime, uid, gid, owner names) is fixed, so the same samples give the same
// bytes.

#include "pipeline/common/atomic_file.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

// One ustar member (header + data + padding); throws for a name ustar cannot hold.
std::string tar_member(const std::string& name, std::string_view data);

class WebDatasetWriter {
public:
    WebDatasetWriter(std::string dir, std::int64_t max_samples, std::int64_t max_bytes);
    ~WebDatasetWriter();
    // members: extension (without the dot) -> bytes, written in the given order.
    void add(const std::string& key, const std::vector<std::pair<std::string, std::string_view>>& members);
    // Closes the last shard, writes sizes.json and stats.json, removes stale shards.
    void finish();

    struct Shard {
        std::string name;
        std::int64_t samples = 0, bytes = 0;
    };
    const std::vector<Shard>& shards() const noexcept { return shards_; }

private:
    void close_shard();
    std::string dir_;
    std::int64_t max_samples_, max_bytes_;
    std::unique_ptr<AtomicFileWriter> file_;
    std::vector<Shard> shards_;
};

} // namespace skyscript::pipeline
