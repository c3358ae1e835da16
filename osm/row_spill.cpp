#include "osm/row_spill.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <algorithm>
#include <unistd.h>

namespace skyscript::osm {

namespace {

// The fixed-size part of a row (stored without its tail padding), then its three strings.
struct Fixed {
    std::int64_t fid, osm_id;
    double max_gsd, area_m2, length_m, rep_lon, rep_lat;
    Box bbox;
    std::uint32_t tags_size, focus_size, wkb_size;
    char osm_type, kind;
};

constexpr std::size_t fixed_bytes = offsetof(Fixed, kind) + 1;
constexpr std::size_t flush_bytes = 4 << 20;

} // namespace

RowSpill::RowSpill(const std::string& scratch_dir) : dir_(scratch_dir) {
    file_.open_in(scratch_dir);
    buffer_.reserve(flush_bytes + 4096);
}

RowSpill::~RowSpill() = default;

void RowSpill::add(const CatalogRow& r) {
    const Fixed f{r.fid, r.osm_id, r.max_gsd, r.area_m2, r.length_m, r.rep_lon, r.rep_lat, r.bbox,
              static_cast<std::uint32_t>(r.tags_json.size()), static_cast<std::uint32_t>(r.focus_tag.size()),
              static_cast<std::uint32_t>(r.wkb.size()), r.osm_type, r.kind};
    buffer_.append(reinterpret_cast<const char*>(&f), fixed_bytes);
    buffer_ += r.tags_json;
    buffer_ += r.focus_tag;
    buffer_ += r.wkb;
    ++rows_;
    if (buffer_.size() >= flush_bytes) flush();
}

void RowSpill::flush() {
    for (std::size_t done = 0; done < buffer_.size();) {
        const auto n = ::pwrite(file_.fd, buffer_.data() + done, buffer_.size() - done, static_cast<off_t>(written_ + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(dir_ + ": cannot write the rows' scratch file (" + std::strerror(n < 0 ? errno : ENOSPC) + ")");
        done += static_cast<std::size_t>(n);
    }
    written_ += buffer_.size();
    buffer_.clear();
}

void RowSpill::for_each(const std::function<void(CatalogRow&&)>& fn) {
    flush();
    // Read back in chunks: memory stays at a chunk whatever the file's size.
    std::string chunk;
    std::size_t at = 0;           // next unread byte of chunk
    std::uint64_t file_at = 0;    // next byte of the file to read into chunk
    auto have = [&](std::size_t n) { // at least n unread bytes in chunk, or the file is short
        if (chunk.size() - at >= n) return;
        chunk.erase(0, at);
        at = 0;
        while (chunk.size() < n) {
            const auto old = chunk.size();
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n - old, flush_bytes), written_ - file_at));
            if (want == 0) throw std::runtime_error(dir_ + ": the rows' scratch file is shorter than written");
            chunk.resize(old + want);
            const auto got = ::pread(file_.fd, chunk.data() + old, want, static_cast<off_t>(file_at));
            if (got < 0 && errno == EINTR) {
                chunk.resize(old);
                continue;
            }
            if (got <= 0) throw std::runtime_error(dir_ + ": cannot read the rows' scratch file back (" + std::strerror(got < 0 ? errno : EIO) + ")");
            chunk.resize(old + static_cast<std::size_t>(got));
            file_at += static_cast<std::uint64_t>(got);
        }
    };
    auto take = [&](std::string& s, std::uint32_t n) {
        have(n);
        s.assign(chunk.data() + at, n);
        at += n;
    };
    for (std::uint64_t i = 0; i < rows_; ++i) {
        Fixed f;
        have(fixed_bytes);
        std::memcpy(static_cast<void*>(&f), chunk.data() + at, fixed_bytes); // Box has initialisers, Fixed no invariant
        at += fixed_bytes;
        CatalogRow r;
        r.fid = f.fid, r.osm_id = f.osm_id, r.osm_type = f.osm_type, r.kind = f.kind;
        r.max_gsd = f.max_gsd, r.area_m2 = f.area_m2, r.length_m = f.length_m, r.rep_lon = f.rep_lon, r.rep_lat = f.rep_lat, r.bbox = f.bbox;
        take(r.tags_json, f.tags_size);
        take(r.focus_tag, f.focus_size);
        take(r.wkb, f.wkb_size);
        fn(std::move(r));
    }
}

} // namespace skyscript::osm
