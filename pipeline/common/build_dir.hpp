#pragma once
// A build's output folder OUT and every path in it, named in this one place (the names are
// described in docs/dataset-format.md): the stages write there, report, status, merge and
// --reuse read there, and a rerun checks there.
//   OUT/catalog.gpkg  state.sqlite (+ .merging while merge builds it)  build.lock
//   OUT/imagesK/STEM.jpg  metaK/STEM.pickle  meta.jsonl  (K = the job's part)
//   OUT/SkyScript_*.csv  webdataset/{train,val,test}/  benchmarks/  report.json  report.html
//   OUT/polish_answers.sqlite (the polish stage's answers, by request key: kept across replans)
// STEM = {n|w|a}{osm_id}_{SRC}_{yy}; the CSV's `filepath` is the image's path relative to OUT.

#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

class BuildDir {
public:
    explicit BuildDir(std::string root) : root_(std::move(root)) {}

    const std::string& root() const noexcept { return root_; }
    std::string catalog() const { return path("catalog.gpkg"); }
    std::string state_db() const { return path("state.sqlite"); }
    std::string merging_state_db() const { return path("state.sqlite.merging"); }
    std::string lock() const { return path("build.lock"); }
    std::string polish_answers() const { return path("polish_answers.sqlite"); }
    std::string meta_jsonl() const { return path("meta.jsonl"); }
    std::string report_json() const { return path("report.json"); }
    std::string report_html() const { return path("report.html"); }
    std::string webdataset() const { return path("webdataset"); }
    std::string benchmarks() const { return path("benchmarks"); }
    std::string image(int part, const std::string& stem) const;
    std::string meta(int part, const std::string& stem) const;
    // OUT/relative.
    std::string path(std::string_view relative) const;
    // OUT/relative as a folder of the build's own, made where missing. Each of its parts below
    // OUT must be a folder, not a symbolic link: the stages write into these folders and remove
    // what no job names there, so a link planted in OUT (images3 -> /somewhere) would steer
    // both outside it. Throws std::runtime_error naming the link and where it points.
    std::string own_dir(std::string_view relative) const;
    // Reading another build's OUT (a shard, an --reuse build): "" when OUT/relative is missing
    // or a folder of that build's own; else the line refusing the first of its parts below OUT
    // that is a symbolic link or not a folder (images1 -> /elsewhere would bring in files no
    // worker wrote).
    std::string not_own_dir(std::string_view relative) const;
    // The entries of OUT now that a build writes, replaces or clears (imagesK/, metaK/,
    // meta.jsonl, SkyScript_*.csv, webdataset/, hf/, benchmarks/, annotations_*.json,
    // README.md, croissant.json, report.*), by name, sorted; none when OUT is not a folder.
    std::vector<std::string> build_outputs_present() const;
    // Whether OUT holds a split's files (SkyScript_*.csv, webdataset/, hf/, annotations_*.json):
    // a split not recorded as finished then has left them part made, or describing captions
    // polished since.
    bool split_outputs_present() const;

private:
    std::string walk_own_dir(std::string_view relative, bool make) const;
    std::string root_;
};

// `path` (a file the build keeps in OUT: state.sqlite, build.lock, polish_answers.sqlite), when
// it is missing or a regular file; else throws one line naming it. A symbolic link, even one
// pointing nowhere, is refused: SQLite and open(2) would write through it, outside OUT (a
// linked build.lock truncated the file it named, a linked state.sqlite was written where it
// pointed, with its -wal and -shm beside it); so is a FIFO, a device or a folder.
const std::string& own_file(const std::string& path);

std::string make_stem(const std::string& id_part, const std::string& source, int year);
// Whether `stem` can be a stem make_stem made: letters, digits, `_` and `-` (the id part, a
// negative id's sign as catalogs before negative ids were refused hold them, the source alias,
// the year), at most 200 of them: no `/` or `.`, so no path. A state DB is a file anyone may edit (a shard's,
// an --reuse build's, OUT's own): a stem of `../../x` would place and remove files outside OUT.
bool is_stem(std::string_view stem);
// imagesK/STEM.jpg, metaK/STEM.pickle; throw std::runtime_error for a stem is_stem refuses.
std::string image_relative_path(int part, const std::string& stem);
std::string meta_relative_path(int part, const std::string& stem);
std::string images_dir(int part);
std::string meta_dir(int part);

} // namespace skyscript::pipeline
