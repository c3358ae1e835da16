#pragma once
// Fills an empty table of an SQLite database by writing its B-tree's pages straight into the
// file, in SQLite's file format (sqlite.org/fileformat2.html: table leaf and interior pages,
// overflow chains, the header's page count and change counter), rows in increasing rowid
// order. Why not INSERT: SQLite's own insert (bind, make the record, find the leaf, balance)
// ran on one thread and was the extract's largest serial cost (issue 25); here the records
// come made (sqlite_record.hpp, on the workers) and are only copied into pages. The result is
// an ordinary table, checked by PRAGMA integrity_check; later statements work on it as usual.
//
// SQLite must not have the file open while an appender writes it (closed before, reopened
// after finish()).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

class SqliteDb;

// The root page of `table` in `db` (sqlite_schema), the page an appender fills; SqliteError
// naming the file when there is no such table.
std::uint32_t table_root_page(SqliteDb& db, const std::string& table);

class SqliteTableAppender {
public:
    // `path`: a database whose table with root page `root` is empty (a leaf without cells).
    // Throws SqliteError naming the file when it cannot be opened or is not such a database.
    SqliteTableAppender(std::string path, std::uint32_t root);
    ~SqliteTableAppender();
    SqliteTableAppender(const SqliteTableAppender&) = delete;
    SqliteTableAppender& operator=(const SqliteTableAppender&) = delete;

    // `rowid` must exceed every rowid appended before (SqliteError if not).
    void append(std::int64_t rowid, std::string_view record);
    // Writes the last leaf, the interior pages and the root, then the header: the page count,
    // the change counter (SQLite then drops any cache of the file). Nothing may be appended after.
    void finish();

    std::int64_t last_rowid() const noexcept { return last_rowid_; }
    std::uint64_t rows() const noexcept { return rows_; }

private:
    struct Child {
        std::uint32_t page;
        std::int64_t max_rowid;
    };
    std::uint32_t new_page();
    void write_page(std::uint32_t page, const unsigned char* data);
    void start_leaf();
    void flush_leaf(bool last);
    // The pages of one level above `children`; the root (page root_) when they fit in one.
    std::vector<Child> write_interior_level(const std::vector<Child>& children);
    [[noreturn]] void fail(const std::string& what) const;

    std::string path_;
    int fd_ = -1;
    std::uint32_t page_size_ = 0, usable_ = 0, root_ = 0, pages_ = 0;
    std::vector<unsigned char> leaf_, overflow_;
    std::size_t cells_ = 0, content_start_ = 0; // the leaf being filled
    std::vector<Child> leaves_;
    std::int64_t last_rowid_ = 0;
    std::uint64_t rows_ = 0;
    bool finished_ = false;
};

} // namespace skyscript::pipeline
