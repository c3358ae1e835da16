#pragma once
// Catalog rows set aside in a scratch file and read back in the order they came: sampling in
// the read (issue 25) keeps every row of the first read (the catalog is then written from
// them), or, short of scratch space, its point rows, so that the second read reads no node
// blob (a PBF's nodes are most of its bytes).

#include "osm/catalog_row.hpp"
#include "osm/scratch_file.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace skyscript::osm {

class RowSpill {
public:
    // A nameless file in `scratch_dir` (ScratchFile).
    explicit RowSpill(const std::string& scratch_dir);
    ~RowSpill();
    RowSpill(const RowSpill&) = delete;
    RowSpill& operator=(const RowSpill&) = delete;

    void add(const CatalogRow& row);
    std::uint64_t size() const noexcept { return rows_; }
    // fn(row) for every row in order; rows added later are not seen.
    void for_each(const std::function<void(CatalogRow&&)>& fn);

private:
    void flush();
    ScratchFile file_;
    std::string buffer_; // rows not yet written
    std::uint64_t written_ = 0, rows_ = 0;
};

} // namespace skyscript::osm
