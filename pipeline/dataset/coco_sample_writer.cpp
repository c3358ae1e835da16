// The `coco` format: OUT/annotations_{train,val,test}.json, COCO-style, beside the
// SkyScript CSVs (--format coco writes the `files` format too: the annotations index the
// same images). One file per split:
//   images       id, file_name (relative to OUT), width, height, osm_type, osm_id, source
//   annotations  per object the caption names (meta `objects`, focus first): id, image_id,
//                category_id, bbox [x, y, w, h], area, segmentation (an area's outer rings as
//                flat [x1, y1, x2, y2, ...] polygons, holes are in the meta's geometry_px),
//                iscrowd 0, role, osm_type, osm_id, visible_share; a line has no polygon but
//                line_px (its visible parts, [[x, y], ...] each) and length_px, area 0; a
//                point point_px and a bbox of no size.
//                Then per caption field, COCO's caption annotation: id, image_id, caption,
//                caption_field, and the focus's category_id (pycocotools indexes every
//                annotation by category); it has no bbox: a detector keeps the annotations
//                with a bbox, a captioner those with a caption.
//   categories   id, name (key=value, the tag an object is sampled for), supercategory (key),
//                the same ids in the three files, numbered as first met in job order.
// Written streamed: images into the final file's temporary, annotations into an unlinked
// scratch file appended at finish, so memory stays flat whatever the build's size.

#include "pipeline/common/atomic_file.hpp"
#include "imagery/json_depth.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/dataset/sample_writer.hpp"
#include "tag_filters/utf8_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <unistd.h>

namespace skyscript::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json; // keys in COCO's own order: id first

namespace {

std::string annotations_name(int split) { return std::string("annotations_").append(sample_split_names[split]).append(".json"); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// A file read back once, removed from the folder as soon as it is open (a killed run leaves nothing).
class ScratchFile {
public:
    explicit ScratchFile(const std::string& path) {
        f_ = std::fopen(path.c_str(), "w+b");
        if (!f_) throw std::runtime_error(path + ": cannot create the COCO annotations' scratch file (" + std::strerror(errno) + ")");
        ::unlink(path.c_str());
    }
    ~ScratchFile() { std::fclose(f_); }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;
    void append(std::string_view s) {
        if (std::fwrite(s.data(), 1, s.size(), f_) != s.size()) throw std::runtime_error("COCO annotations' scratch file: write failed (disk full?)");
    }
    template <typename F>
    void read_back(F&& sink) {
        if (std::fflush(f_) != 0 || std::fseek(f_, 0, SEEK_SET) != 0) throw std::runtime_error("COCO annotations' scratch file: cannot read back");
        std::string buf(1 << 20, '\0');
        while (const auto n = std::fread(buf.data(), 1, buf.size(), f_)) sink(std::string_view(buf.data(), n));
        if (std::ferror(f_)) throw std::runtime_error("COCO annotations' scratch file: read failed");
    }

private:
    std::FILE* f_ = nullptr;
};

struct SplitFile {
    std::string name;
    std::unique_ptr<AtomicFileWriter> file;
    std::unique_ptr<ScratchFile> annotations;
    std::int64_t images = 0, annotation_count = 0;
};

json rounded(double v) { return std::round(v * 100.0) / 100.0; }

class CocoSampleWriter final : public SampleWriter {
public:
    explicit CocoSampleWriter(const SampleWriterSetup& setup) : out_dir_(setup.out_dir), caption_fields_(setup.caption_fields) {
        for (int s = 0; s < 3; ++s) {
            SplitFile f;
            f.name = annotations_name(s);
            const auto path = BuildDir(out_dir_).path(f.name);
            f.file = std::make_unique<AtomicFileWriter>(path);
            f.annotations = std::make_unique<ScratchFile>(path + ".partial-" + std::to_string(::getpid()) + "-annotations");
            f.file->append(R"J({"info":{"description":"SkyScript-style image-text pairs grounded in OSM objects (skyscript-build)","split":")J");
            f.file->append(sample_split_names[s]);
            f.file->append(R"("},"licenses":[],"images":[)");
            splits_.push_back(std::move(f));
        }
    }

    void write(const Sample& sample) override {
        const Job& job = sample.job;
        auto& f = splits_[sample.split];
        const auto image_id = ++image_ids_;
        json image{{"id", image_id},
                   {"file_name", sample.filepath},
                   {"width", job.grid.width},
                   {"height", job.grid.height},
                   {"osm_type", std::string(1, job.osm_type)},
                   {"osm_id", job.osm_id},
                   {"source", job.source}};
        if (f.images++) f.file->append(",");
        f.file->append(dump(image));

        const auto objects = imagery::parse_json_within_depth<json>(tags::valid_utf8(job.objects));
        std::int64_t focus_category = category(job.focus_tag);
        if (objects.is_array())
            for (const auto& o : objects) try {
                if (!o.is_object() || !o.contains("bbox_px") || !o["bbox_px"].is_array() || o["bbox_px"].size() != 4) continue;
                const bool focus = o.value("role", "") == "focus";
                const auto cat = focus ? focus_category : category(object_category(o));
                const auto& b = o["bbox_px"];
                const double x0 = b[0].get<double>(), y0 = b[1].get<double>(), x1 = b[2].get<double>(), y1 = b[3].get<double>();
                json a{{"id", ++annotation_ids_},
                       {"image_id", image_id},
                       {"category_id", cat},
                       {"bbox", {rounded(x0), rounded(y0), rounded(x1 - x0), rounded(y1 - y0)}},
                       {"area", 0},
                       {"iscrowd", 0},
                       {"role", o.value("role", "")},
                       {"osm_type", o.value("osm_type", "")},
                       {"osm_id", o.value("osm_id", std::int64_t{0})},
                       {"visible_share", o.value("visible_share", 0.0)}};
                add_geometry(a, o);
                append_annotation(f, a);
            } catch (const nlohmann::json::exception&) { // a state DB edited by hand: an object with a key of the wrong type is left out
            }
        for (const auto& field : caption_fields_) {
            json a{{"id", ++annotation_ids_}, {"image_id", image_id}, {"category_id", focus_category}, {"caption", tags::valid_utf8(job.caption(field))}, {"caption_field", field}};
            append_annotation(f, a);
        }
    }

    void finish(WrittenSamples& written) override {
        json cats = json::array();
        for (std::size_t i = 0; i < category_names_.size(); ++i) {
            const auto& name = category_names_[i];
            cats.push_back({{"id", i + 1}, {"name", name}, {"supercategory", name.substr(0, name.find('='))}});
        }
        const auto cats_text = dump(cats);
        for (auto& f : splits_) {
            f.file->append(R"(],"annotations":[)");
            f.annotations->read_back([&](std::string_view chunk) { f.file->append(chunk); });
            f.file->append(R"(],"categories":)");
            f.file->append(cats_text);
            f.file->append("}\n");
            f.file->commit();
            written.files.emplace_back(f.name, f.images);
        }
    }

private:
    // The category of a surrounding object: its `category`, or (objects planned before it was
    // recorded) its first tag.
    static std::string object_category(const json& o) {
        if (const auto c = o.find("category"); c != o.end() && c->is_string()) return c->get<std::string>();
        if (const auto t = o.find("tags"); t != o.end() && t->is_object() && !t->empty() && t->begin().value().is_string())
            return t->begin().key() + "=" + t->begin().value().get<std::string>();
        return "unknown";
    }

    // A category's name as a label, `key=value` as the tag has it but on one line: what breaks
    // a line a space (one in a name shifted every later id of a one-name-per-line class
    // list), bidi controls and invisible characters dropped (U+202E reordered a viewer's
    // label), runs of spaces one, none at either end; invalid UTF-8 U+FFFD. Tags that differ
    // only in those are one category. The meta's `category` keeps the tag as it is.
    static std::string label(std::string_view raw) {
        auto out = tags::one_line_words(raw);
        return out.empty() ? "unknown" : out;
    }

    // A category's id: its place, from 1, in the order categories are first met.
    std::int64_t category(const std::string& raw) {
        const auto name = label(raw);
        auto [it, added] = category_ids_.try_emplace(name, static_cast<std::int64_t>(category_ids_.size()) + 1);
        if (added) category_names_.push_back(name);
        return it->second;
    }

    // COCO's geometry fields from the meta's geometry_px (areas: polygons of rings; lines: parts; points: [x, y]).
    static void add_geometry(json& a, const json& o) {
        const auto g = o.find("geometry_px");
        const double visible = o.value("visible_px", 0.0);
        a["segmentation"] = json::array();
        if (g == o.end() || !g->is_array() || g->empty()) return;
        const auto& first = (*g)[0];
        if (first.is_number()) { // a point
            a["point_px"] = *g;
            return;
        }
        if (!first.is_array() || first.empty()) return;
        if (first[0].is_array() && !first[0].empty() && first[0][0].is_array()) { // an area: polygons -> outer rings
            for (const auto& polygon : *g) {
                if (!polygon.is_array() || polygon.empty() || !polygon[0].is_array()) continue;
                json flat = json::array();
                const auto& ring = polygon[0];
                for (std::size_t i = 0; i + 1 < ring.size(); ++i) // the closing vertex repeats the first
                    if (ring[i].is_array() && ring[i].size() == 2) {
                        flat.push_back(ring[i][0]);
                        flat.push_back(ring[i][1]);
                    }
                if (flat.size() >= 6) a["segmentation"].push_back(std::move(flat));
            }
            a["area"] = rounded(visible);
            return;
        }
        a["line_px"] = *g; // a line: its parts
        a["length_px"] = rounded(visible);
    }

    void append_annotation(SplitFile& f, const json& a) {
        if (f.annotation_count++) f.annotations->append(",");
        f.annotations->append(dump(a));
    }

    std::string out_dir_;
    std::vector<std::string> caption_fields_;
    std::vector<SplitFile> splits_; // train, val, test
    std::int64_t image_ids_ = 0, annotation_ids_ = 0;
    std::map<std::string, std::int64_t> category_ids_;
    std::vector<std::string> category_names_; // by id - 1
};

void remove_coco_files(const std::string& out_dir) {
    std::error_code ec;
    for (int s = 0; s < 3; ++s) fs::remove(BuildDir(out_dir).path(annotations_name(s)), ec);
}

} // namespace

extern const SampleFormat coco_format; // registered in sample_formats.cpp
const SampleFormat coco_format{
    "coco",
    [](const BuildOptions&) {},
    [](const SampleWriterSetup& setup) -> std::unique_ptr<SampleWriter> { return std::make_unique<CocoSampleWriter>(setup); },
    remove_coco_files,
    "files",
};

} // namespace skyscript::pipeline
