#pragma once
// What a PBF file sorted by type (all nodes, then ways, then relations, as osmium,
// Geofabrik and planet.osm.org write them) allows: finding where one type's blobs begin
// or end from the blob headers and a binary search that decodes a few blobs, however
// large the file, and then reading only those blobs.

#include <osmium/io/file.hpp>
#include <osmium/memory/buffer.hpp>
#include <osmium/osm/entity_bits.hpp>
#include <osmium/osm/item_type.hpp>
#include <osmium/thread/pool.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::osm {

class PbfBlobs {
public:
    // The OSMData blobs of `path`, from their headers only; nothing when it is not a PBF
    // file whose blob headers can be read (the caller reads it with osmium, which says why).
    static std::optional<PbfBlobs> open(const std::string& path);

    PbfBlobs(PbfBlobs&& other) noexcept;
    PbfBlobs& operator=(PbfBlobs&&) = delete;
    ~PbfBlobs();

    std::size_t size() const noexcept { return blobs_.size(); }
    // The file offset just past blob i.
    std::uint64_t end_offset(std::size_t i) const noexcept { return blobs_[i].offset + blobs_[i].size; }
    // Blob i as stored (compressed), what osmium's PBFDataBlobDecoder takes. Throws
    // osmium::pbf_error when the file is shorter than its headers say.
    std::string read(std::size_t i) const;
    // The objects of these types in blob i, in one buffer or (a large blob) several, in order.
    std::vector<osmium::memory::Buffer> decode(std::size_t i, osmium::osm_entity_bits::type types) const;
    // The type of the first primitive group in blob i (node, way or relation), learnt
    // from a raw or zlib blob by reading (inflating) only as far as that group's first
    // field, past the block's string table: a few percent of the blob; other compressions
    // are decoded whole. Nothing when the first group is empty, of changesets, or the blob
    // is not a PrimitiveBlock.
    std::optional<osmium::item_type> first_group_type(std::size_t i) const;
    // The header declares Sort.Type_then_ID.
    bool sorted_by_type() const noexcept { return sorted_by_type_; }

    // The first blob for which `reached(i)` holds, given that it fails on the blobs before
    // some point and holds on all from it on (std::partition_point over blob numbers):
    // about log2(size()) calls. size() when it holds on none.
    std::size_t first(const std::function<bool(std::size_t)>& reached) const;

private:
    struct Blob {
        std::uint64_t offset;
        std::uint32_t size;
    };
    PbfBlobs(int fd, std::vector<Blob> blobs, bool sorted) : fd_(fd), blobs_(std::move(blobs)), sorted_by_type_(sorted) {}

    int fd_ = -1;
    std::vector<Blob> blobs_;
    bool sorted_by_type_ = false;
};

// The relations of `file`, buffer by buffer, with the input offset each reaches. From a
// PBF whose header says it is sorted by type and whose blobs' first groups run nodes,
// ways, relations (checked, as a header may claim it wrongly), only the blobs from the
// last one starting with ways on (a sorted file's relations are its last few percent),
// decoded on `pool`; from any other input, the whole file through osmium's Reader (on
// `pool` too). Every buffer's tag lists are made safe to loop over first (tag_list_guard.hpp).
void read_relations(const osmium::io::File& file, osmium::thread::Pool& pool,
                    const std::function<void(const osmium::memory::Buffer&, std::uint64_t offset)>& on_buffer);

// The ways of a PBF whose nodes come first (a second read of a file the first read found
// sorted so), from the last blob that starts with nodes on, decoded on `pool` without their nodes, in order, with the input offset each buffer reaches; tag lists made
// safe as above. False, and nothing read, when `file` is not a PBF whose blobs can be listed.
bool read_ways_of_sorted(const osmium::io::File& file, osmium::thread::Pool& pool,
                         const std::function<void(osmium::memory::Buffer&&, std::uint64_t offset)>& on_buffer);

// What a whole read by osmium's Reader left unread, said in a sentence; nothing when it
// reached the end. libosmium takes a blob length of 0, or a last blob followed by fewer
// than 4 bytes, for the file's clean end: a download preallocated and left unfinished (its
// missing parts zeros) would pass for a whole file, the objects after the first hole lost.
// `offset` is Reader::offset() once read() has returned its last buffer, which libosmium
// keeps only for an uncompressed PBF (the only input checked); `size` the file's size.
std::optional<std::string> unread_part(const osmium::io::File& file, std::uint64_t offset, std::uint64_t size);

} // namespace skyscript::osm
