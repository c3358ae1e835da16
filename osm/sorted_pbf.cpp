#include "osm/sorted_pbf.hpp"

#include "osm/tag_list_guard.hpp"

#include <osmium/io/any_input.hpp>
#include <osmium/io/detail/pbf_decoder.hpp>
#include <osmium/thread/pool.hpp>
#include <protozero/pbf_reader.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <sys/stat.h>
#include <future>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <utility>

namespace skyscript::osm {

namespace {

bool read_at(int fd, std::uint64_t offset, std::size_t size, std::string& out) {
    out.resize(size);
    std::size_t done = 0;
    while (done < size) {
        const auto n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Protobuf's base-128 varint at `in`, nothing when it runs past the data.
template <typename NextByte>
std::optional<std::uint64_t> varint(NextByte&& next) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const auto b = next();
        if (!b) return std::nullopt;
        v |= std::uint64_t{*b & 0x7FU} << shift;
        if (!(*b & 0x80U)) return v;
    }
    return std::nullopt;
}

// The bytes of a blob's data, from the front, as far as they are asked for: read from the
// file as they are needed and, for zlib data, inflated on the way.
class InflatedPrefix {
public:
    InflatedPrefix(int fd, std::uint64_t offset, std::uint64_t size, bool zlib) : fd_(fd), offset_(offset), left_(size), zlib_(zlib) {
        ok_ = inflateInit(&zs_) == Z_OK;
    }
    ~InflatedPrefix() { inflateEnd(&zs_); }
    InflatedPrefix(const InflatedPrefix&) = delete;
    InflatedPrefix& operator=(const InflatedPrefix&) = delete;

    std::optional<unsigned> byte() {
        if (pos_ == len_ && !inflate_more()) return std::nullopt;
        return out_[pos_++];
    }
    bool skip(std::uint64_t n) {
        while (n > 0) {
            if (pos_ == len_ && !inflate_more()) return false;
            const auto k = std::min<std::uint64_t>(n, len_ - pos_);
            pos_ += static_cast<std::size_t>(k);
            n -= k;
        }
        return true;
    }

private:
    bool inflate_more() {
        if (!zlib_) { // raw: the next bytes as they are
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, out_.size()));
            if (n == 0 || !read_at(fd_, offset_, n, chunk_)) return false;
            std::copy(chunk_.begin(), chunk_.end(), out_.begin());
            offset_ += n, left_ -= n;
            pos_ = 0;
            len_ = n;
            return true;
        }
        while (ok_ && !ended_) {
            // More input only when zlib has none left and had room to spare: an output buffer
            // filled to the end may leave output pending in zlib with no input to go.
            if (zs_.avail_in == 0 && !out_full_) {
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in_.size()));
                if (n == 0 || !read_at(fd_, offset_, n, chunk_)) return false;
                std::copy(chunk_.begin(), chunk_.end(), in_.begin());
                offset_ += n, left_ -= n;
                zs_.next_in = in_.data();
                zs_.avail_in = static_cast<uInt>(n);
            }
            zs_.next_out = out_.data();
            zs_.avail_out = static_cast<uInt>(out_.size());
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) ended_ = true;
            else if (rc != Z_OK && rc != Z_BUF_ERROR) ok_ = false;
            out_full_ = zs_.avail_out == 0;
            pos_ = 0;
            len_ = out_.size() - zs_.avail_out;
            if (len_ > 0) return true;
        }
        return false;
    }

    int fd_;
    std::uint64_t offset_, left_;
    bool zlib_;
    z_stream zs_{};
    bool ok_ = false, ended_ = false, out_full_ = false;
    std::string chunk_;
    std::array<unsigned char, 16384> in_{};
    std::array<unsigned char, 16384> out_{};
    std::size_t pos_ = 0, len_ = 0;
};

// The type of the first group of a PrimitiveBlock read byte by byte: its fields are the
// string table (1), the groups (2) and scalars; a group's first field says what it holds.
template <typename Stream>
std::optional<osmium::item_type> first_group_in_block(Stream& in) {
    while (const auto key = varint([&] { return in.byte(); })) {
        const auto field = *key >> 3, wire = *key & 7;
        if (wire == 0) {
            if (!varint([&] { return in.byte(); })) return std::nullopt;
        } else if (wire == 2) {
            const auto length = varint([&] { return in.byte(); });
            if (!length) return std::nullopt;
            if (field == 2) {
                if (*length == 0) return std::nullopt;
                const auto group_key = varint([&] { return in.byte(); });
                if (!group_key) return std::nullopt;
                switch (*group_key >> 3) {
                    case 1: // nodes
                    case 2: return osmium::item_type::node; // dense nodes
                    case 3: return osmium::item_type::way;
                    case 4: return osmium::item_type::relation;
                    default: return std::nullopt; // changesets
                }
            }
            if (!in.skip(*length)) return std::nullopt;
        } else if (wire == 1 || wire == 5) {
            if (!in.skip(wire == 1 ? 8 : 4)) return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<PbfBlobs> PbfBlobs::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    PbfBlobs none{fd, {}, false}; // closes fd on every early return
    std::vector<Blob> blobs;
    std::optional<Blob> header_blob;
    std::string buf;
    std::uint64_t offset = 0;
    // Each blob: a 4-byte big-endian length, BlobHeader{type, datasize}, then the blob.
    while (read_at(fd, offset, 4, buf)) {
        const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
        const std::uint32_t header_size = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
        if (header_size == 0 || header_size > osmium::io::detail::max_blob_header_size || !read_at(fd, offset + 4, header_size, buf))
            return std::nullopt;
        std::string type;
        std::int32_t data_size = -1;
        try {
            protozero::pbf_reader header{buf};
            while (header.next()) {
                if (header.tag() == 1) type = header.get_string();
                else if (header.tag() == 3) data_size = header.get_int32();
                else header.skip();
            }
        } catch (const protozero::exception&) {
            return std::nullopt;
        }
        if (data_size < 0 || static_cast<std::uint32_t>(data_size) > osmium::io::detail::max_uncompressed_blob_size) return std::nullopt;
        const Blob blob{offset + 4 + header_size, static_cast<std::uint32_t>(data_size)};
        if (type == "OSMData") blobs.push_back(blob);
        else if (type == "OSMHeader" && offset == 0) header_blob = blob;
        offset = blob.offset + blob.size;
    }
    // Bytes after the last blob (fewer than 4): osmium's Reader reads the file and says so.
    struct stat st{};
    if (!header_blob || ::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != offset) return std::nullopt;
    bool sorted = false;
    try {
        std::string data;
        if (!read_at(fd, header_blob->offset, header_blob->size, data)) return std::nullopt;
        sorted = osmium::io::detail::decode_header(data).get("sorting") == "Type_then_ID";
    } catch (const osmium::io_error&) {
        return std::nullopt;
    } catch (const protozero::exception&) { // a garbled header block: not indexable, read whole
        return std::nullopt;
    }
    none.fd_ = -1;
    return PbfBlobs{fd, std::move(blobs), sorted};
}

PbfBlobs::PbfBlobs(PbfBlobs&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), blobs_(std::move(other.blobs_)), sorted_by_type_(other.sorted_by_type_) {}

PbfBlobs::~PbfBlobs() {
    if (fd_ >= 0) ::close(fd_);
}

std::string PbfBlobs::read(std::size_t i) const {
    std::string data;
    if (!read_at(fd_, blobs_[i].offset, blobs_[i].size, data)) throw osmium::pbf_error{"truncated data (EOF encountered)"};
    return data;
}

std::vector<osmium::memory::Buffer> unnest(osmium::memory::Buffer&& decoded) {
    std::vector<osmium::memory::Buffer> parts;
    while (decoded.has_nested_buffers()) parts.push_back(std::move(*decoded.get_last_nested()));
    parts.push_back(std::move(decoded));
    return parts;
}

std::vector<osmium::memory::Buffer> PbfBlobs::decode(std::size_t i, osmium::osm_entity_bits::type types) const {
    osmium::io::detail::PBFDataBlobDecoder decoder{read(i), types, osmium::io::read_meta::no};
    return unnest(decoder());
}

std::optional<osmium::item_type> PbfBlobs::first_group_type(std::size_t i) const {
    // The Blob message: raw_size (2) and one of raw (1), zlib_data (3), lzma, lz4, zstd.
    std::string head;
    const auto head_size = static_cast<std::size_t>(std::min<std::uint64_t>(blobs_[i].size, 32));
    if (!read_at(fd_, blobs_[i].offset, head_size, head)) return std::nullopt;
    std::size_t at = 0;
    auto next = [&]() -> std::optional<unsigned> {
        if (at == head.size()) return std::nullopt;
        return static_cast<unsigned char>(head[at++]);
    };
    while (const auto key = varint(next)) {
        const auto field = *key >> 3, wire = *key & 7;
        if (wire == 0) {
            if (!varint(next)) break;
            continue;
        }
        const auto length = wire == 2 ? varint(next) : std::nullopt;
        if (!length || *length > end_offset(i) - (blobs_[i].offset + at)) break; // (not offset + length: a crafted length wraps)
        if (field == 1 || field == 3) { // raw, zlib_data
            InflatedPrefix block{fd_, blobs_[i].offset + at, *length, field == 3};
            return first_group_in_block(block);
        }
        break; // another compression: decoded whole below
    }
    for (const auto& buffer : decode(i, osmium::osm_entity_bits::nwr))
        for (const auto& object : buffer.select<osmium::OSMObject>()) return object.type();
    return std::nullopt;
}

std::size_t PbfBlobs::first(const std::function<bool(std::size_t)>& reached) const {
    std::size_t lo = 0, hi = blobs_.size(); // the answer lies in [lo, hi]
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (reached(mid)) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

namespace {

void read_all_relations(const osmium::io::File& file, osmium::thread::Pool& pool,
                        const std::function<void(const osmium::memory::Buffer&, std::uint64_t)>& on_buffer) {
    osmium::io::Reader reader{file, osmium::osm_entity_bits::relation, osmium::io::read_meta::no, pool};
    while (auto buffer = reader.read()) {
        guard_tag_lists(buffer);
        on_buffer(buffer, reader.offset());
    }
    reader.close();
}

int type_rank(std::optional<osmium::item_type> type) {
    return type == osmium::item_type::node ? 0 : type == osmium::item_type::way ? 1 : type == osmium::item_type::relation ? 2 : -1;
}

// Whether the first groups of blobs [0, end) run nodes, then ways (relations come later).
// Every blob's start is inflated, on as many threads as the read has cores (the pool's and
// the two it leaves; for the planet's hundreds of thousands of blobs, the reading thread's
// longest pass before the read).
bool nodes_then_ways(const PbfBlobs& blobs, std::size_t end, const osmium::thread::Pool& pool) {
    std::vector<signed char> ranks(end);
    constexpr std::size_t step = 256; // blobs a thread takes at a time
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto rank_blobs = [&] {
        try {
            for (std::size_t from; (from = next.fetch_add(step)) < end;)
                for (std::size_t i = from; i < std::min(end, from + step); ++i) ranks[i] = static_cast<signed char>(type_rank(blobs.first_group_type(i)));
        } catch (...) {
            std::lock_guard lock(error_mutex);
            if (!error) error = std::current_exception();
            next = end; // the others stop too
        }
    };
    const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(pool.num_threads()) + 2, (end + step - 1) / step);
    {
        std::vector<std::jthread> rankers; // joined however this ends: a thread the system refuses throws here
        try {
            for (std::size_t t = 0; t < threads; ++t) rankers.emplace_back(rank_blobs); // not this thread: its time is the serial part
        } catch (...) {
            next = end; // those started stop at their next step
            throw;
        }
    }
    if (error) std::rethrow_exception(error);
    int last = 0;
    for (const int rank : ranks) {
        if (rank < last || rank > 1) return false;
        last = rank;
    }
    return true;
}

// Blobs [from, end) decoded to `types` and handed to on_buffer in order (a large blob in
// parts), with the input offset each reaches: `pool` decodes every other blob and this
// thread the others. `check` runs once the pool's first blobs are under way; false: nothing
// was handed on, and false is returned.
bool decode_in_order(const PbfBlobs& blobs, std::size_t from, osmium::thread::Pool& pool, osmium::osm_entity_bits::type types,
                     const std::function<bool()>& check, const std::function<void(osmium::memory::Buffer&&, std::uint64_t)>& on_buffer) {
    const std::size_t in_flight = 2 * static_cast<std::size_t>(pool.num_threads()) + 2;
    auto decoder = [&](std::size_t i) { return osmium::io::detail::PBFDataBlobDecoder{blobs.read(i), types, osmium::io::read_meta::no}; };
    auto on_pool = [&](std::size_t i) { return (i - from) % 2 == 1; };
    std::deque<std::future<osmium::memory::Buffer>> decoded; // the pool's blobs from `submitted` back
    std::size_t submitted = from;
    auto submit = [&] {
        for (; submitted < blobs.size() && decoded.size() < in_flight; ++submitted)
            if (on_pool(submitted)) decoded.push_back(pool.submit(decoder(submitted)));
    };
    submit();
    if (!check()) {
        for (auto& f : decoded) f.wait();
        return false;
    }
    for (std::size_t i = from; i < blobs.size(); ++i) {
        osmium::memory::Buffer buffer;
        if (on_pool(i)) {
            buffer = decoded.front().get();
            decoded.pop_front();
        } else {
            buffer = decoder(i)();
        }
        submit();
        for (auto& part : unnest(std::move(buffer))) {
            guard_tag_lists(part);
            on_buffer(std::move(part), blobs.end_offset(i));
        }
    }
    return true;
}

} // namespace

void read_relations(const osmium::io::File& file, osmium::thread::Pool& pool,
                    const std::function<void(const osmium::memory::Buffer&, std::uint64_t)>& on_buffer) {
    const auto blobs = file.format() == osmium::io::file_format::pbf ? PbfBlobs::open(file.filename()) : std::nullopt;
    if (!blobs || !blobs->sorted_by_type() || blobs->size() == 0) return read_all_relations(file, pool, on_buffer);
    // Relations start in the last blob whose first group holds nodes or ways: it may end
    // with the first relations. Found from the end; the blobs up to it are checked below.
    std::size_t from = blobs->size() - 1;
    while (from > 0 && type_rank(blobs->first_group_type(from)) == 2) --from;
    if (type_rank(blobs->first_group_type(from)) < 0) return read_all_relations(file, pool, on_buffer);

    if (!decode_in_order(*blobs, from, pool, osmium::osm_entity_bits::relation, [&] { return nodes_then_ways(*blobs, from + 1, pool); },
                         [&](osmium::memory::Buffer&& part, std::uint64_t offset) { on_buffer(part, offset); }))
        read_all_relations(file, pool, on_buffer); // osmium also reports what is wrong
}

bool read_ways_of_sorted(const osmium::io::File& file, osmium::thread::Pool& pool,
                         const std::function<void(osmium::memory::Buffer&&, std::uint64_t offset)>& on_buffer) {
    const auto blobs = file.format() == osmium::io::file_format::pbf ? PbfBlobs::open(file.filename()) : std::nullopt;
    if (!blobs || blobs->size() == 0) return false;
    // Ways start in the last blob whose first group holds nodes (it may end with the first
    // ways), found by a binary search over the blobs' first groups.
    const std::size_t first_not_nodes = blobs->first([&](std::size_t i) { return type_rank(blobs->first_group_type(i)) != 0; });
    const std::size_t from = first_not_nodes > 0 ? first_not_nodes - 1 : 0;
    return decode_in_order(*blobs, from, pool, osmium::osm_entity_bits::way, [] { return true; }, on_buffer);
}

std::optional<std::string> unread_part(const osmium::io::File& file, std::uint64_t offset, std::uint64_t size) {
    if (file.format() != osmium::io::file_format::pbf || file.compression() != osmium::io::file_compression::none || file.filename().empty() ||
        offset >= size)
        return std::nullopt;
    const int fd = ::open(file.filename().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt; // the read's own error, or the caller's check of a changed file, says more
    // A blob length of 0 was read (4 bytes past the data's end), or fewer than 4 bytes were left.
    std::string bytes;
    const bool zero_length = offset >= 4 && read_at(fd, offset - 4, 4, bytes) && bytes == std::string(4, '\0');
    ::close(fd);
    const std::uint64_t end = zero_length ? offset - 4 : offset;
    const std::string rest = std::to_string(size - end) + " bytes from byte " + std::to_string(end) + " of " + std::to_string(size);
    return zero_length ? "its OSM data stops at a run of zero bytes and " + rest + " were not read (a download left unfinished?); download it again"
                       : "its OSM data stops before the end of the file: " + rest + " are not OSM blobs (a damaged or unfinished file?)";
}

} // namespace skyscript::osm
