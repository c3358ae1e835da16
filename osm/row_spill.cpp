#include "osm/row_spill.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

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

RowSpill::RowSpill(const std::string& scratch_dir) {
    file_.open_in(scratch_dir, "the rows' scratch file");
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
    file_.write_at(written_, buffer_.data(), buffer_.size());
    written_ += buffer_.size();
    buffer_.clear();
}

void RowSpill::for_each(const std::function<void(CatalogRow&&)>& fn) {
    flush();
    // Read back in chunks: memory stays at a chunk whatever the file's size.
    std::string chunk;
    std::size_t at = 0;           // next unread byte of chunk
    std::uint64_t file_at = 0;    // next byte of the file to read into chunk
    auto have = [&](std::size_t n) { // at least n unread bytes in chunk (read_at throws when the file is short)
        if (chunk.size() - at >= n) return;
        chunk.erase(0, at);
        at = 0;
        const auto old = chunk.size();
        const auto want = std::max<std::uint64_t>(n - old, std::min<std::uint64_t>(flush_bytes, written_ - file_at));
        chunk.resize(old + want);
        file_.read_at(file_at, chunk.data() + old, want);
        file_at += want;
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
