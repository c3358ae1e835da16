#include "pipeline/plan/job_maker.hpp"

#include "osm/groundable_tags.hpp"
#include "pipeline/common/tile_key.hpp"
#include "pipeline/plan/surroundings.hpp"
#include "imagery/source_kind.hpp"
#include "tag_filters/tag_list.hpp"

namespace skyscript::pipeline {

namespace {

// {"key":"value",...} in the catalog's own JSON writer (nlohmann's DOM was a sixth of the plan's time).
void append_tags_object(std::string& out, const TagViews& tags) {
    out.push_back('{');
    for (std::size_t i = 0; i < tags.size(); ++i) {
        if (i) out.push_back(',');
        osm::append_json_string(out, tags[i].key);
        out.push_back(':');
        osm::append_json_string(out, tags[i].value);
    }
    out.push_back('}');
}

captions::CaptionResources caption_resources(const PlanOptions& options) {
    captions::CaptionOptions caption_options;
    caption_options.max_surrounding = options.max_surrounding;
    return {caption_options, tags::builtin_tag_names()};
}

} // namespace

JobMaker::JobMaker(const CatalogIndex& index, CatalogReader& catalog, const PlanOptions& options)
    : index_(index), visible_(catalog), min_visible_(options.min_visible), max_surrounding_(options.max_surrounding), jpeg_quality_(options.quality),
      styles_(options.caption_style, caption_resources(options)) {}

void JobMaker::place(Job& job, const IndexedObject& object, const BuildSource& source, const imagery::TileGrid& grid) const {
    job.source = source.config.alias;
    job.grid = grid;
    auto part = source_key_parts_.find(source.config.alias);
    if (part == source_key_parts_.end())
        part = source_key_parts_.emplace(source.config.alias, source.config.kind->tile_key_part(source.config)).first;
    job.tile_key = make_tile_key(part->second, grid, jpeg_quality_);
    const auto center = tags_visible_at(index_, object, grid.gsd);
    const auto around = find_surroundings(index_, visible_, grid, object.fid, min_visible_);
    job.center_tags.clear();
    append_tags_object(job.center_tags, center);
    job.surrounding_tags.assign(1, '[');
    for (std::size_t i = 0; i < around.size(); ++i) {
        if (i) job.surrounding_tags.push_back(',');
        append_tags_object(job.surrounding_tags, around[i].tags);
    }
    job.surrounding_tags.push_back(']');
    // The objects in the image's pixels: the focus, then those title_multi_objects draws from.
    auto& objects = job.objects;
    objects.assign(1, '[');
    auto add = [&](const char* role, const IndexedObject& o, const TagViews& tags, const Visible& visible) {
        if (objects.size() > 1) objects += ',';
        objects += "{\"role\":\"";
        objects += role;
        objects += "\",\"osm_type\":\"";
        objects += o.osm_type;
        objects += "\",\"osm_id\":";
        objects += std::to_string(o.osm_id);
        objects += ",\"category\":"; // the tag it is sampled for as a focus: COCO's category
        osm::append_json_string(objects, index_.text(o.focus_tag));
        objects += ",\"tags\":";
        append_tags_object(objects, tags);
        const auto before = objects.size();
        objects += ',';
        if (!visible_.describe(objects, o, grid, visible)) objects.resize(before);
        objects += '}';
    };
    add("focus", object, center, visible_.measure(object, grid));
    for (std::size_t i = 0; i < std::min(around.size(), max_surrounding_); ++i)
        add("surrounding", *around[i].object, around[i].tags, around[i].visible);
    objects += ']';
    std::vector<captions::TagSet> around_sets;
    around_sets.reserve(around.size());
    for (const auto& t : around) around_sets.emplace_back(t.tags);
    styles_.caption(center, around_sets, job.captions);
}

} // namespace skyscript::pipeline
