#include "pipeline/catalog/table_appender.hpp"

#include "osm/scratch_file.hpp"
#include "pipeline/catalog/sqlite_record.hpp"
#include "pipeline/common/sqlite_db.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::pipeline {

namespace {

constexpr unsigned char leaf_table_page = 13, interior_table_page = 5;
constexpr std::uint64_t lock_byte_offset = 1073741824; // the page holding this byte is never used

std::uint32_t get_be32(const unsigned char* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put_be32(unsigned char* p, std::uint32_t v) {
    for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v);
}
void put_be16(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 8);
    p[1] = static_cast<unsigned char>(v);
}

} // namespace

std::uint32_t table_root_page(SqliteDb& db, const std::string& table) {
    auto q = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = ?");
    q.bind(1, std::string_view{table}); // bound without a copy: `table` lives until the step
    if (!q.step()) throw SqliteError(db.path() + ": no table " + table);
    return static_cast<std::uint32_t>(q.column_int(0));
}

SqliteTableAppender::SqliteTableAppender(std::string path, std::uint32_t root) : path_(std::move(path)), root_(root) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) fail(std::string("cannot open (") + std::strerror(errno) + ")");
    unsigned char header[100];
    if (::pread(fd_, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0)
        fail("not an SQLite database");
    page_size_ = std::uint32_t{header[16]} << 8 | header[17];
    if (page_size_ == 1) page_size_ = 65536;
    if (page_size_ < 512 || (page_size_ & (page_size_ - 1)) != 0 || header[20] >= page_size_ - 480) fail("bad page size in its header");
    usable_ = page_size_ - header[20];
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(std::string("cannot stat (") + std::strerror(errno) + ")");
    pages_ = static_cast<std::uint32_t>((static_cast<std::uint64_t>(st.st_size) + page_size_ - 1) / page_size_);
    if (root_ < 2 || root_ > pages_) fail("no page " + std::to_string(root_) + " to fill");
    std::vector<unsigned char> page(page_size_);
    if (::pread(fd_, page.data(), page_size_, static_cast<off_t>(root_ - 1) * page_size_) != static_cast<ssize_t>(page_size_) ||
        page[0] != leaf_table_page || page[3] != 0 || page[4] != 0)
        fail("page " + std::to_string(root_) + " is not an empty table");
    leaf_.resize(page_size_);
    overflow_.resize(page_size_);
    start_leaf();
}

SqliteTableAppender::~SqliteTableAppender() {
    if (fd_ >= 0) ::close(fd_);
}

void SqliteTableAppender::fail(const std::string& what) const { throw SqliteError(path_ + ": " + what); }

std::uint32_t SqliteTableAppender::new_page() {
    if (pages_ == 0xfffffffeU) fail("more pages than SQLite allows");
    ++pages_;
    if (static_cast<std::uint64_t>(pages_ - 1) * page_size_ <= lock_byte_offset && lock_byte_offset < static_cast<std::uint64_t>(pages_) * page_size_) ++pages_;
    return pages_;
}

void SqliteTableAppender::write_page(std::uint32_t page, const unsigned char* data) {
    if (const int e = osm::write_all_at(fd_, std::uint64_t{page - 1} * page_size_, data, page_size_))
        fail(std::string("cannot write (") + std::strerror(e) + ")");
}

void SqliteTableAppender::start_leaf() {
    std::fill(leaf_.begin(), leaf_.end(), 0);
    cells_ = 0;
    content_start_ = usable_;
}

void SqliteTableAppender::flush_leaf(bool last) {
    leaf_[0] = leaf_table_page;
    put_be16(&leaf_[3], static_cast<std::uint32_t>(cells_));
    put_be16(&leaf_[5], static_cast<std::uint32_t>(content_start_ == 65536 ? 0 : content_start_));
    if (last && leaves_.empty()) { // the whole table in one leaf: the root itself
        write_page(root_, leaf_.data());
        return;
    }
    const auto page = new_page();
    write_page(page, leaf_.data());
    leaves_.push_back({page, last_rowid_}); // its last row's: a leaf is written before the next row goes in
}

void SqliteTableAppender::append(std::int64_t rowid, std::string_view record) {
    if (finished_) fail("row appended after the table was finished");
    if (rows_ > 0 && rowid <= last_rowid_) fail("rowid " + std::to_string(rowid) + " after " + std::to_string(last_rowid_) + ": rows must come in increasing order");
    // How much of the payload stays in the cell (the file format's X, M and K for a table leaf).
    const std::size_t p = record.size(), x = usable_ - 35, m = (usable_ - 12) * 32 / 255 - 23;
    std::size_t local = p;
    if (p > x) {
        const std::size_t k = m + (p - m) % (usable_ - 4);
        local = k <= x ? k : m;
    }
    const auto key = static_cast<std::uint64_t>(rowid);
    const std::size_t cell = std::max<std::size_t>(4, sqlite_varint_size(p) + sqlite_varint_size(key) + local + (p > local ? 4 : 0));
    if (cells_ > 0 && 8 + 2 * (cells_ + 1) + cell > content_start_) {
        flush_leaf(false);
        start_leaf();
    }
    // The rest of the payload in a chain of overflow pages, each pointing to the next.
    std::uint32_t first_overflow = 0;
    if (p > local) {
        std::uint32_t page = first_overflow = new_page();
        for (std::size_t at = local; at < p;) {
            const std::size_t n = std::min<std::size_t>(usable_ - 4, p - at);
            const std::uint32_t next = at + n < p ? new_page() : 0;
            std::fill(overflow_.begin(), overflow_.end(), 0);
            put_be32(overflow_.data(), next);
            std::memcpy(overflow_.data() + 4, record.data() + at, n);
            write_page(page, overflow_.data());
            page = next;
            at += n;
        }
    }
    content_start_ -= cell;
    unsigned char* c = leaf_.data() + content_start_;
    c += put_sqlite_varint(c, p);
    c += put_sqlite_varint(c, key);
    std::memcpy(c, record.data(), local);
    if (first_overflow) put_be32(c + local, first_overflow);
    put_be16(&leaf_[8 + 2 * cells_], static_cast<std::uint32_t>(content_start_));
    ++cells_;
    last_rowid_ = rowid;
    ++rows_;
}

std::vector<SqliteTableAppender::Child> SqliteTableAppender::write_interior_level(const std::vector<Child>& children) {
    auto cell_size = [](const Child& c) { return 4 + sqlite_varint_size(static_cast<std::uint64_t>(c.max_rowid)); };
    // Pages as ranges of children: cells for all but the last, which is the right-most pointer.
    std::vector<std::pair<std::size_t, std::size_t>> ranges; // [first, right-most]
    for (std::size_t i = 0; i < children.size();) {
        std::size_t k = i, used = 12;
        while (k + 1 < children.size() && used + 2 + cell_size(children[k]) <= usable_) used += 2 + cell_size(children[k++]);
        // Never leave a single child for a page of its own (an interior page needs a cell).
        if (children.size() - (k + 1) == 1 && k > i + 1) --k;
        ranges.emplace_back(i, k);
        i = k + 1;
    }
    std::vector<Child> parents;
    std::vector<unsigned char> page(page_size_);
    for (const auto& [first, right] : ranges) {
        std::fill(page.begin(), page.end(), 0);
        page[0] = interior_table_page;
        std::size_t content = usable_;
        for (std::size_t j = first; j < right; ++j) {
            content -= cell_size(children[j]);
            put_be32(&page[content], children[j].page);
            put_sqlite_varint(&page[content + 4], static_cast<std::uint64_t>(children[j].max_rowid));
            put_be16(&page[12 + 2 * (j - first)], static_cast<std::uint32_t>(content));
        }
        put_be16(&page[3], static_cast<std::uint32_t>(right - first));
        put_be16(&page[5], static_cast<std::uint32_t>(content == 65536 ? 0 : content));
        put_be32(&page[8], children[right].page);
        const std::uint32_t number = ranges.size() == 1 ? root_ : new_page();
        write_page(number, page.data());
        parents.push_back({number, children[right].max_rowid});
    }
    return parents;
}

void SqliteTableAppender::finish() {
    if (finished_) return;
    finished_ = true;
    if (rows_ == 0) return; // the root stays the empty leaf it was
    flush_leaf(true);
    for (auto level = leaves_; level.size() > 1;) level = write_interior_level(level);
    // The header: the file's page count, valid because the change counter is matched by
    // version-valid-for; a new change counter tells SQLite its cached pages are stale.
    unsigned char header[100];
    if (::pread(fd_, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) fail("cannot read its header");
    const std::uint32_t counter = get_be32(header + 24) + 1;
    put_be32(header + 24, counter);
    put_be32(header + 28, pages_);
    put_be32(header + 92, counter);
    if (const int e = osm::write_all_at(fd_, 0, header, sizeof header)) fail(std::string("cannot write its header (") + std::strerror(e) + ")");
    if (::close(fd_) != 0) {
        fd_ = -1;
        fail(std::string("cannot close (") + std::strerror(errno) + ")");
    }
    fd_ = -1;
}

} // namespace skyscript::pipeline
