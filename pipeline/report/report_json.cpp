#include "pipeline/report/report_json.hpp"

#include "imagery/json_depth.hpp"
#include "pipeline/dataset/meta_record.hpp"


#include <algorithm>
#include <numeric>

namespace skyscript::pipeline {

nlohmann::json report_json(const ReportData& r) {
    using nlohmann::json;
    json j;
    j["schema"] = "skyscript-build report 1";
    j["generated_at"] = r.generated_at;
    j["headline"] = {{"pairs", r.pairs},
                     {"distinct_tags", r.distinct_focus_tags},
                     {"distinct_captions", r.distinct_titles},
                     {"sources", static_cast<std::int64_t>(r.pairs_by_source.size())},
                     {"failures", r.failed}};
    j["jobs"] = {{"total", r.jobs}, {"by_status", r.jobs_by_status}};
    json by_source = json::object();
    for (const auto& [source, statuses] : r.source_status) by_source[source] = statuses;
    j["jobs"]["by_source"] = by_source;
    json fallbacks = json::array();
    for (const auto& [from_to, n] : r.fallbacks) fallbacks.push_back({{"from", from_to.first}, {"to", from_to.second}, {"jobs", n}});
    j["jobs"]["fallbacks"] = fallbacks;
    j["jobs"]["every_source_said_no"] = r.every_source_said_no;
    j["pairs"] = {{"total", r.pairs}, {"by_source", r.pairs_by_source}, {"by_year", r.pairs_by_year}, {"by_kind", r.pairs_by_kind}};
    json gsd = json::array();
    for (const auto& [m, n] : r.pairs_by_gsd) gsd.push_back({{"gsd_m", m}, {"pairs", n}});
    j["pairs"]["by_gsd"] = gsd;
    json top = json::array();
    for (const auto& [tag, n] : r.top_tags) top.push_back({{"tag", tag}, {"pairs", n}});
    json curve = json::array();
    for (const auto& p : r.tag_curve) curve.push_back({{"min_images", p.min_images}, {"tags", p.tags}});
    auto at_least = [&](std::int64_t n) {
        return static_cast<std::int64_t>(std::count_if(r.tag_image_counts.begin(), r.tag_image_counts.end(), [n](auto c) { return c >= n; }));
    };
    const std::int64_t tail = r.tag_image_counts.size() > r.top_tags.size()
                                  ? std::accumulate(r.tag_image_counts.begin() + static_cast<std::ptrdiff_t>(r.top_tags.size()), r.tag_image_counts.end(), std::int64_t{0})
                                  : 0;
    j["focus_tags"] = {{"distinct", r.distinct_focus_tags},
                       {"with_at_least_100_images", at_least(100)},
                       {"with_at_least_1000_images", at_least(1000)},
                       {"top", top},
                       {"long_tail", {{"tags", std::max<std::int64_t>(0, static_cast<std::int64_t>(r.tag_image_counts.size()) - static_cast<std::int64_t>(r.top_tags.size()))}, {"pairs", tail}}},
                       {"curve", curve}};
    j["tags"] = {{"distinct_center_tags", r.distinct_tags}};
    j["captions"] = {{"distinct_title", r.distinct_titles}, {"distinct_title_multi_objects", r.distinct_multi_titles}};
    j["skipped"] = {{"total", r.skipped_total}, {"by_reason", r.skipped}};
    j["reuse"] = {{"reused", r.reused}, {"fetched", r.fetched_anew}, {"not_needed", r.reuse_not_needed}};
    json failures = json::array();
    for (const auto& f : r.failures)
        failures.push_back({{"reason", f.reason}, {"jobs", f.jobs}, {"example", f.example}, {"example_reason", f.example_reason}});
    // reasons: classes (every URL "URL", every decimal number "N"); messages: distinct texts.
    j["failures"] = {{"total", r.failed}, {"reasons", r.failure_reasons_total}, {"messages", r.failure_messages_total}, {"top", failures}};
    // What a user of the dataset may do with it: OpenStreetMap's terms for every image, and each source's.
    json licences = json::array();
    for (const auto& t : r.licences)
        licences.push_back({{"source", t.alias}, {"licence", t.licence.empty() ? "unknown" : t.licence}, {"attribution", t.attribution}, {"images", t.images}});
    j["licences"] = {{"osm", {{"licence", osm_licence}, {"attribution", osm_attribution}, {"images", r.pairs}}}, {"sources", licences}};
    json stages = json::array();
    for (const auto& s : r.stages) {
        json st = {{"stage", s.stage}, {"finished_at", s.finished_at}, {"seconds", s.seconds}};
        st["summary"] = imagery::parse_json_within_depth<json>(s.summary_json.empty() ? "{}" : s.summary_json);
        if (st["summary"].is_discarded()) st["summary"] = s.summary_json;
        if (!s.unit.empty()) st["rate"] = {{"per_second", s.rate}, {"unit", s.unit}, {"items", s.items}};
        stages.push_back(st);
    }
    j["stages"] = stages;
    // A polish asked for and not finished (a stage record only a finished one has): how far it got.
    j["polish_owed"] = r.polish_owed;
    j["polish_failed_jobs"] = r.polish_failed_jobs;
    j["options"] = r.options;
    j["catalog"] = r.catalog;
    j["tool"] = r.tool;
    j["files"] = {{"images", r.files.images}, {"image_bytes", r.files.image_bytes}, {"meta", r.files.meta},
                  {"csv_rows", r.files.csv_rows}, {"meta_jsonl_lines", r.files.jsonl_lines}};
    json sample = json::array();
    for (const auto& im : r.gallery) sample.push_back(im.stem);
    j["gallery"] = {{"seed", r.seed}, {"stems", sample}};
    return j;
}

} // namespace skyscript::pipeline
