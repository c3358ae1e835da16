#pragma once
// Catalog rows set aside in a scratch file and read back in the order they came: sampling in
// the read (issue 25) keeps the first read's point rows so that the second reads no node blob
// (a PBF's nodes are most of its bytes), only its ways and relations.

#include "osm/catalog_row.hpp"
#include "osm/scratch_file.hpp"

#include <cstdint>
#include <cstdio>
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
    ScratchFile file_;
    std::string dir_;
    std::FILE* out_ = nullptr;
    std::uint64_t rows_ = 0;
};

} // namespace skyscript::osm
