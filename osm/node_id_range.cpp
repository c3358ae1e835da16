#include "node_id_range.hpp"

#include <osmium/io/any_input.hpp>
#include <osmium/io/detail/pbf_decoder.hpp>
#include <protozero/pbf_reader.hpp>

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace skyscript::osm {

namespace {

struct Fd {
    int fd;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

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

struct DataBlob {
    std::uint64_t offset;
    std::uint32_t size;
};

// The OSMData blobs of a PBF file, from their headers only (length, BlobHeader{type, datasize}).
std::optional<std::vector<DataBlob>> data_blobs(int fd) {
    std::vector<DataBlob> blobs;
    std::string buf;
    std::uint64_t offset = 0;
    while (true) {
        if (!read_at(fd, offset, 4, buf)) return blobs.empty() ? std::nullopt : std::optional{blobs};
        const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
        const std::uint32_t header_size = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
        if (header_size == 0 || header_size > 64 * 1024 || !read_at(fd, offset + 4, header_size, buf)) return std::nullopt;
        std::string type;
        std::int32_t data_size = -1;
        protozero::pbf_reader header{buf};
        while (header.next()) {
            if (header.tag() == 1) type = header.get_string();
            else if (header.tag() == 3) data_size = header.get_int32();
            else header.skip();
        }
        if (data_size < 0 || static_cast<std::uint32_t>(data_size) > osmium::io::detail::max_uncompressed_blob_size) return std::nullopt;
        if (type == "OSMData") blobs.push_back({offset + 4 + header_size, static_cast<std::uint32_t>(data_size)});
        offset += 4 + header_size + static_cast<std::uint64_t>(data_size);
    }
}

std::optional<std::uint64_t> largest_in_blob(int fd, const DataBlob& blob) {
    std::string data;
    if (!read_at(fd, blob.offset, blob.size, data)) return std::nullopt;
    osmium::io::detail::PBFDataBlobDecoder decode{std::move(data), osmium::osm_entity_bits::node, osmium::io::read_meta::no};
    const auto buffer = decode();
    std::optional<std::uint64_t> largest;
    for (const auto& node : buffer.select<osmium::Node>())
        if (node.id() > 0) largest = std::max(largest.value_or(0), node.positive_id());
    return largest;
}

std::optional<std::uint64_t> largest_in_pbf(const std::string& path) {
    const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) return std::nullopt;
    const auto blobs = data_blobs(f.fd);
    if (!blobs || blobs->empty()) return std::nullopt;
    // Blobs with nodes come first: find the last one (lo has nodes, hi does not).
    auto first = largest_in_blob(f.fd, blobs->front());
    if (!first) return std::nullopt;
    std::size_t lo = 0, hi = blobs->size();
    std::optional<std::uint64_t> at_lo = first;
    while (hi - lo > 1) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (auto m = largest_in_blob(f.fd, (*blobs)[mid])) lo = mid, at_lo = m;
        else hi = mid;
    }
    return at_lo;
}

} // namespace

std::optional<std::uint64_t> largest_node_id(const std::string& path) {
    try {
        osmium::io::File file{path};
        if (file.format() == osmium::io::file_format::pbf || file.format() == osmium::io::file_format::unknown)
            return largest_in_pbf(path);
        osmium::io::Reader reader{file, osmium::osm_entity_bits::node, osmium::io::read_meta::no};
        std::optional<std::uint64_t> largest;
        while (auto buffer = reader.read())
            for (const auto& node : buffer.select<osmium::Node>())
                if (node.id() > 0) largest = std::max(largest.value_or(0), node.positive_id());
        reader.close();
        return largest;
    } catch (const std::exception&) {
        return std::nullopt; // not readable: the extract itself says why
    }
}

} // namespace skyscript::osm
