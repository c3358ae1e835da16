#include "osm/row_spill.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

namespace skyscript::osm {

namespace {

// The fixed-size part of a row, then its three strings (sizes first).
struct Fixed {
    std::int64_t fid, osm_id;
    double max_gsd, area_m2, length_m, rep_lon, rep_lat;
    Box bbox;
    std::uint32_t tags_size, focus_size, wkb_size;
    char osm_type, kind;
};

} // namespace

RowSpill::RowSpill(const std::string& scratch_dir) : dir_(scratch_dir) {
    file_.open_in(scratch_dir);
    const int fd = ::dup(file_.fd);
    if (fd < 0 || !(out_ = ::fdopen(fd, "w+b"))) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error(scratch_dir + ": cannot open a scratch file (" + std::strerror(errno) + ")");
    }
}

RowSpill::~RowSpill() {
    if (out_) std::fclose(out_);
}

void RowSpill::add(const CatalogRow& r) {
    const Fixed f{r.fid, r.osm_id, r.max_gsd, r.area_m2, r.length_m, r.rep_lon, r.rep_lat, r.bbox,
                  static_cast<std::uint32_t>(r.tags_json.size()), static_cast<std::uint32_t>(r.focus_tag.size()),
                  static_cast<std::uint32_t>(r.wkb.size()), r.osm_type, r.kind};
    const bool ok = std::fwrite(&f, sizeof f, 1, out_) == 1 && std::fwrite(r.tags_json.data(), 1, r.tags_json.size(), out_) == r.tags_json.size() &&
                    std::fwrite(r.focus_tag.data(), 1, r.focus_tag.size(), out_) == r.focus_tag.size() &&
                    std::fwrite(r.wkb.data(), 1, r.wkb.size(), out_) == r.wkb.size();
    if (!ok) throw std::runtime_error(dir_ + ": cannot write the point rows' scratch file (" + std::strerror(errno) + ")");
    ++rows_;
}

void RowSpill::for_each(const std::function<void(CatalogRow&&)>& fn) {
    if (std::fflush(out_) != 0 || std::fseek(out_, 0, SEEK_SET) != 0)
        throw std::runtime_error(dir_ + ": cannot read the point rows' scratch file back (" + std::strerror(errno) + ")");
    auto fail = [&] { throw std::runtime_error(dir_ + ": the point rows' scratch file is shorter than written"); };
    auto read_string = [&](std::string& s, std::uint32_t n) {
        s.resize(n);
        if (n && std::fread(s.data(), 1, n, out_) != n) fail();
    };
    for (std::uint64_t i = 0; i < rows_; ++i) {
        Fixed f;
        if (std::fread(&f, sizeof f, 1, out_) != 1) fail();
        CatalogRow r;
        r.fid = f.fid, r.osm_id = f.osm_id, r.osm_type = f.osm_type, r.kind = f.kind;
        r.max_gsd = f.max_gsd, r.area_m2 = f.area_m2, r.length_m = f.length_m, r.rep_lon = f.rep_lon, r.rep_lat = f.rep_lat, r.bbox = f.bbox;
        read_string(r.tags_json, f.tags_size);
        read_string(r.focus_tag, f.focus_size);
        read_string(r.wkb, f.wkb_size);
        fn(std::move(r));
    }
    std::fseek(out_, 0, SEEK_END);
}

} // namespace skyscript::osm
