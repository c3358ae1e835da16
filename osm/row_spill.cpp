#include "osm/row_spill.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <cerrno>
#include <sys/stat.h>

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
    writer_ = std::thread([this] { write_loop(); });
}

RowSpill::~RowSpill() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();
}

void RowSpill::write_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] { return pending_ || stopping_; });
        if (!pending_) return;
        lock.unlock();
        std::exception_ptr error;
        try {
            file_.write_at(writing_at_, writing_.data(), writing_.size());
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        if (error && !error_) error_ = error;
        pending_ = false;
        cv_.notify_all();
    }
}

void RowSpill::wait_written(std::unique_lock<std::mutex>& lock) {
    cv_.wait(lock, [&] { return !pending_; });
    if (error_) std::rethrow_exception(error_);
}

void RowSpill::seal() {
    flush();
    std::unique_lock lock(mutex_);
    wait_written(lock);
}

void RowSpill::serialize(const CatalogRow& r, std::string& out) {
    const Fixed f{r.fid, r.osm_id, r.max_gsd, r.area_m2, r.length_m, r.rep_lon, r.rep_lat, r.bbox,
              static_cast<std::uint32_t>(r.tags_json.size()), static_cast<std::uint32_t>(r.focus_tag.size()),
              static_cast<std::uint32_t>(r.wkb.size()), r.osm_type, r.kind};
    out.append(reinterpret_cast<const char*>(&f), fixed_bytes);
    out += r.tags_json;
    out += r.focus_tag;
    out += r.wkb;
}

void RowSpill::add(const CatalogRow& r) {
    serialize(r, buffer_);
    ++rows_, ++buffered_rows_;
    if (buffer_.size() >= flush_bytes) flush();
}

void RowSpill::add_serialized(std::string_view row, std::int64_t fid) {
    static_assert(offsetof(Fixed, fid) == 0);
    if (row.size() < fixed_bytes) throw std::logic_error("RowSpill::add_serialized: not a serialized row");
    const auto at = buffer_.size();
    buffer_ += row;
    std::memcpy(buffer_.data() + at, &fid, sizeof fid);
    ++rows_, ++buffered_rows_;
    if (buffer_.size() >= flush_bytes) flush();
}

void RowSpill::flush() {
    if (buffer_.empty()) return;
    std::unique_lock lock(mutex_);
    wait_written(lock);
    writing_.swap(buffer_); // the written one's memory fills next
    writing_at_ = written_;
    pending_ = true;
    chunks_.push_back({written_, writing_.size(), buffered_rows_});
    written_ += writing_.size();
    buffer_.clear();
    buffered_rows_ = 0;
    lock.unlock();
    cv_.notify_all();
}

namespace {

// The fixed part of the row at `p` into `r` (its strings left as they are); the sizes of its
// strings in `f`. std::runtime_error when the row would run past `end`.
void head_at(const char*& p, const char* end, CatalogRow& r, Fixed& f) {
    if (static_cast<std::uint64_t>(end - p) < fixed_bytes) throw std::runtime_error("the rows' scratch file ends inside a row");
    std::memcpy(static_cast<void*>(&f), p, fixed_bytes); // Box has initialisers, Fixed no invariant
    p += fixed_bytes;
    if (static_cast<std::uint64_t>(end - p) < std::uint64_t{f.tags_size} + f.focus_size + f.wkb_size)
        throw std::runtime_error("the rows' scratch file ends inside a row");
    r.fid = f.fid, r.osm_id = f.osm_id, r.osm_type = f.osm_type, r.kind = f.kind;
    r.max_gsd = f.max_gsd, r.area_m2 = f.area_m2, r.length_m = f.length_m, r.rep_lon = f.rep_lon, r.rep_lat = f.rep_lat, r.bbox = f.bbox;
}

} // namespace

void RowSpill::read_chunk(std::size_t k, const std::function<bool(const CatalogRow&)>& keep, const std::function<void(CatalogRow&&)>& fn) const {
    const auto& c = chunks_.at(k);
    const std::unique_ptr<char[]> bytes(new char[c.bytes]); // not zeroed: read over at once
    file_.read_at(c.offset, bytes.get(), c.bytes);
    const char* p = bytes.get();
    const char* const end = p + c.bytes;
    CatalogRow r;
    Fixed f;
    for (std::uint64_t i = 0; i < c.rows; ++i) {
        head_at(p, end, r, f);
        // A row refused on its head: its strings skipped, never copied.
        if (!keep || keep(r)) {
            r.tags_json.assign(p, f.tags_size);
            r.focus_tag.assign(p + f.tags_size, f.focus_size);
            r.wkb.assign(p + f.tags_size + f.focus_size, f.wkb_size);
            fn(std::move(r));
            r = CatalogRow{};
        }
        p += std::uint64_t{f.tags_size} + f.focus_size + f.wkb_size;
    }
}

std::uint64_t RowSpill::disk_bytes() const {
    struct stat st {};
    if (::fstat(file_.fd, &st) != 0) throw std::runtime_error(std::string("the rows' scratch file: ") + std::strerror(errno));
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

} // namespace skyscript::osm
