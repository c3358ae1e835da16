#pragma once
// Catalog rows set aside in a scratch file and read back in the order they came: sampling in
// the read (issue 25) keeps every row of the first read (the catalog is then written from
// them), or, short of scratch space, its point rows, so that the second read reads no node
// blob (a PBF's nodes are most of its bytes).

#include "osm/catalog_row.hpp"
#include "osm/scratch_file.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::osm {

class RowSpill {
public:
    // A nameless file in `scratch_dir` (ScratchFile).
    explicit RowSpill(const std::string& scratch_dir);
    ~RowSpill();
    RowSpill(const RowSpill&) = delete;
    RowSpill& operator=(const RowSpill&) = delete;

    void add(const CatalogRow& row);
    // A row in the file's form, made anywhere (a worker), then added as it is but for its fid
    // (given then: the order sets it).
    static void serialize(const CatalogRow& row, std::string& out);
    void add_serialized(std::string_view row, std::int64_t fid);
    std::uint64_t size() const noexcept { return rows_; }
    // The rows in chunks written whole (a few MB each), for reading them back on several
    // threads: seal() writes what is pending (rows added later are not seen), then chunks()
    // and read_chunk(k, keep, fn): fn(row) for chunk k's rows that keep(head) accepts (all
    // without it), in order; `head` has the row's fixed fields, not its tags, focus tag or WKB
    // (not copied for a row refused). read_chunk may run on several threads at once.
    void seal();
    std::size_t chunks() const noexcept { return chunks_.size(); }
    std::uint64_t chunk_rows(std::size_t k) const { return chunks_.at(k).rows; }
    void read_chunk(std::size_t k, const std::function<bool(const CatalogRow& head)>& keep, const std::function<void(CatalogRow&&)>& fn) const;
    // Chunk k will not be read again: its bytes given back (ScratchFile::release). Read back
    // once, the file frees its page cache as it goes, for the pages the catalog writes next.
    void release_chunk(std::size_t k) const { file_.release(chunks_.at(k).offset, chunks_.at(k).bytes); }
    // The scratch disk the file holds now (its allocated blocks).
    std::uint64_t disk_bytes() const;

private:
    void flush();
    void wait_written(std::unique_lock<std::mutex>& lock); // the chunk in writing, written; its error rethrown
    void write_loop();
    struct Chunk {
        std::uint64_t offset, bytes, rows;
    };
    ScratchFile file_;
    std::string buffer_; // rows not yet written
    std::uint64_t written_ = 0, rows_ = 0, buffered_rows_ = 0;
    std::vector<Chunk> chunks_;
    // A full buffer is written by a thread of its own while the next fills (the writes were a
    // sixth of the reading thread's time in a sampled read).
    std::string writing_;
    std::uint64_t writing_at_ = 0;
    bool pending_ = false, stopping_ = false;
    std::exception_ptr error_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::thread writer_;
};

} // namespace skyscript::osm
