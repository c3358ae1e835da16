#include "pipeline/plan/source_fallback.hpp"

#include "pipeline/catalog/catalog_identity.hpp"
#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "pipeline/plan/catalog_index.hpp"
#include "pipeline/plan/job_maker.hpp"
#include "tag_filters/tag_matcher.hpp"

#include <algorithm>
#include <stdexcept>

namespace skyscript::pipeline {

struct SourceFallback::Loaded {
    CatalogReader catalog;
    tags::TagMatcher matcher;
    CatalogIndex index;
    JobMaker maker;
    Loaded(const std::string& catalog_path, const PlanOptions& options)
        : catalog(catalog_path), matcher(checked_tag_list(catalog, catalog_path, options.tags)), index(catalog, matcher), maker(index, catalog, options) {}

    // The plan's vocabulary, or an error if its file was edited since (catalog_identity.hpp).
    static tags::TagList checked_tag_list(CatalogReader& catalog, const std::string& catalog_path, const std::string& option) {
        auto list = load_tag_option(option);
        check_tag_list_unchanged(catalog.meta(), catalog_path, option, list);
        return list;
    }
};

SourceFallback::SourceFallback(std::string out_dir, PlanOptions options, const std::vector<BuildSource>& sources)
    : out_dir_(std::move(out_dir)), options_(std::move(options)), sources_(sources) {}

SourceFallback::~SourceFallback() = default;

SourceFallback::Loaded& SourceFallback::loaded() {
    if (!loaded_) loaded_ = std::make_unique<Loaded>(BuildDir(out_dir_).catalog(), options_);
    return *loaded_;
}

bool SourceFallback::move_to_next(Job& job, const std::string& reason) {
    // A job every source said no to, retried (--retry-failed), asks its last source again:
    // that source's answer is replaced, not listed twice.
    if (!job.tried.empty() && job.tried.back().source == job.source) job.tried.back().reason = reason;
    else job.tried.push_back({job.source, reason});
    if (job.fallbacks.empty()) return false;
    const auto next = job.fallbacks.front();
    const auto* source = find_build_source(sources_, next);
    if (!source)
        throw std::runtime_error(out_dir_ + ": job " + std::to_string(job.job_id) + " falls back to source " + next +
                                 ", which the sources configuration no longer has");
    if (!(source->gsd > 0)) // a raster's own GSD, unread while its server is down, and no job of it to tell
        throw std::runtime_error(out_dir_ + ": job " + std::to_string(job.job_id) + " falls back to source " + next +
                                 ", whose GSD could not be read (its raster cannot be opened now); run again once it can, or give it `gsd`");
    auto& l = loaded();
    const auto& objects = l.index.objects();
    const auto object = std::lower_bound(objects.begin(), objects.end(), job.fid, [](const IndexedObject& o, std::int64_t fid) { return o.fid < fid; });
    if (object == objects.end() || object->fid != job.fid)
        throw std::runtime_error(BuildDir(out_dir_).catalog() + ": object " + std::to_string(job.fid) + " of job " + std::to_string(job.job_id) +
                                 " is not in the catalog the build was planned from; plan again");
    const auto focus = measure_focus(*object, l.catalog, options_.placement.seed);
    const auto grid = place_tile(focus, source->gsd, tile_side_px(focus, source->gsd, options_.placement), options_.placement);
    l.maker.place(job, *object, *source, grid);
    job.fallbacks.erase(job.fallbacks.begin());
    return true;
}

std::string no_imagery_reason(const Job& job, SourcePolicy policy) {
    if (policy != SourcePolicy::all || job.tried.empty()) return every_source_said_no(job);
    return "source " + job.tried.back().source + " has no imagery here (" + job.tried.back().reason + ")";
}

std::string every_source_said_no(const Job& job) {
    std::string out = "no eligible source has imagery here (";
    for (std::size_t i = 0; i < job.tried.size(); ++i) out += (i ? "; " : "") + job.tried[i].source + ": " + job.tried[i].reason;
    return out + ")";
}

} // namespace skyscript::pipeline
