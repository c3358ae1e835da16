#pragma once
// Writes the catalog as a GeoPackage (OUT/catalog.gpkg, layer `objects` with its
// R*Tree spatial index) that GDAL, QGIS and geopandas open as they are.
//
// Rows go in on a writer thread, written as the objects table's pages straight into the file
// (table_appender.hpp) from records the workers made; SQLite writes the rest, and the R*Tree
// is bulk-loaded once at the end (rtree_bulk_load.hpp). Everything is written to
// `catalog.gpkg.partial` and renamed only by commit(): a failed or killed run
// never leaves a half-written catalog under the final name.

#include "osm/catalog_row.hpp"
#include "pipeline/catalog/rtree_bulk_load.hpp"
#include "pipeline/catalog/table_appender.hpp"
#include "pipeline/common/mapped_array.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace skyscript::pipeline {

class SqliteDb;
class SqliteStatement;

class CatalogGpkgWriter : public osm::RowSink {
public:
    explicit CatalogGpkgWriter(std::string final_path);
    ~CatalogGpkgWriter() override; // without commit(): the partial file is removed

    // The row's SQLite record (its GeoPackage geometry blob in it), made on the worker.
    void prepare(osm::CatalogRow& row) const override;
    void consume(std::vector<osm::CatalogRow>&& batch) override;
    std::vector<osm::CatalogRow> spare_batch() override;
    // Finishes rows, builds the spatial index, stores `meta` in table skyscript_meta and, for
    // a catalog sampled as it was read, the focus candidates' fids in table sample_focus; renames.
    void commit(const std::map<std::string, std::string>& meta, const std::vector<std::int64_t>* sample_focus = nullptr);

    const std::string& partial_path() const noexcept { return partial_path_; }

private:
    void writer_loop();
    void write_batch(const std::vector<osm::CatalogRow>& batch);
    void open_db();  // SQLite on the partial file, in a transaction
    void close_db(); // committed and closed, for pages written without it
    void build_spatial_index();
    void write_metadata(const std::map<std::string, std::string>& meta);
    void write_sample_focus(const std::vector<std::int64_t>& fids);
    void rethrow_writer_error();

    std::string final_path_, partial_path_;
    std::unique_ptr<SqliteDb> db_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::vector<osm::CatalogRow>> queue_;
    std::vector<std::vector<osm::CatalogRow>> spare_; // written batches, emptied by the writer thread
    bool closing_ = false;
    std::exception_ptr error_;
    std::thread writer_;
    int writeback_fd_ = -1;        // the partial file, to start its writeback early
    osm::Box extent_{1e9, 1e9, -1e9, -1e9};
    std::unique_ptr<SqliteTableAppender> objects_; // the objects table's pages, while SQLite has the file closed
    std::string record_;                           // a row's record made by the writer (rows prepare() did not see)
    std::unique_ptr<MappedArray<RtreeEntry>> rtree_entries_; // 24 bytes an object, file-backed; packed at commit
    bool committed_ = false;
};

// The objects table's record of `row`, appended to `out`: its geometry as a GeoPackage blob
// (the "GP" header, srs 4326, the envelope but for points, then the WKB); the fid is its rowid, outside it.
void append_object_record(std::string& out, const osm::CatalogRow& row);

} // namespace skyscript::pipeline
