#include "pipeline/dataset/meta_record.hpp"

#include "pipeline/common/build_dir.hpp"
#include "captions/caption_styles.hpp"
#include "imagery/acquisition_time.hpp"
#include "imagery/url_redaction.hpp"
#include "imagery/json_depth.hpp"
#include "pipeline/dataset/pickle_writer.hpp"
#include "tag_filters/utf8_text.hpp"

#include <ctime>

namespace skyscript::pipeline {

nlohmann::ordered_json meta_record(const Job& job) {
    using json = nlohmann::ordered_json;
    const auto& g = job.grid;
    json time;
    const auto utc = imagery::acquisition_utc(job.time_ms);
    if (utc) {
        time = json::array({utc->tm_year + 1900, utc->tm_mon + 1, utc->tm_mday, utc->tm_hour, utc->tm_min});
    } else {
        time = json::array({job.year, 1, 1, 0, 0});
    }
    json m;
    m["box"] = json::array({g.box.west, g.box.south, g.box.east, g.box.north});
    m["time"] = time;
    // Text from OSM is valid UTF-8 since extract (osm/groundable_tags.cpp); a state DB planned
    // from an older catalog may still hold a stray byte, which would stop nlohmann's parser
    // and dump and make a pickle python cannot load: it becomes U+FFFD here too.
    // Not JSON (a state DB edited by hand): one line naming the job, not nlohmann's parse error.
    const auto tags_of = [&](const std::string& text, const char* column, bool array) {
        auto j = imagery::parse_json_within_depth<json>(tags::valid_utf8(text));
        if (array ? !j.is_array() : !j.is_object())
            throw std::runtime_error("state.sqlite: job " + std::to_string(job.job_id) + "'s " + column + " is not a JSON " + (array ? "array" : "object") +
                                     " nested at most " + std::to_string(imagery::max_json_depth) + " deep (the state DB was edited?)");
        return j;
    };
    m["center_tags"] = tags_of(job.center_tags, "center_tags", false);
    m["surrounding_tags"] = tags_of(job.surrounding_tags, "surrounding_tags", true);
    // Where the focus and the surroundings the caption names are in the image (issue 22).
    if (auto objects = imagery::parse_json_within_depth<json>(tags::valid_utf8(job.objects)); objects.is_array() && !objects.empty())
        m["objects"] = std::move(objects);
    m["osm_type"] = std::string(1, job.osm_type);
    m["osm_id"] = job.osm_id;
    m["source"] = job.source;
    m["gsd_m"] = g.gsd;
    m["size_px"] = g.width;
    m["focus_tag"] = tags::valid_utf8(job.focus_tag);
    m["crs"] = g.crs();
    m["transform"] = json::array({g.geotransform[0], g.geotransform[1], g.geotransform[2], g.geotransform[3], g.geotransform[4],
                                  g.geotransform[5]});
    m["time_known"] = utc ? "minute" : "year";
    m["valid_fraction"] = job.valid_fraction;
    // Where the pixels came from, as the source told it (a STAC item, its asset, licence).
    // Redacted again: a job reused or merged from a build whose redaction knew fewer secret names.
    if (!job.provenance.empty()) {
        auto p = imagery::parse_json_within_depth<json>(tags::valid_utf8(job.provenance));
        if (p.is_object()) {
            imagery::redact_json_strings(p);
            m["provenance"] = std::move(p);
        }
    }
    // What a user of the image may do with it and whom they must credit: OpenStreetMap's terms
    // (the tags, captions and geometry are derived from its database) and the source's.
    m["licence"] = json{{"osm", osm_licence}, {"imagery", job.licence.empty() ? std::string("unknown") : tags::valid_utf8(job.licence)}};
    const auto& credit = job.attribution.empty() ? job.licence : job.attribution;
    m["attribution"] = std::string(osm_attribution) + (credit.empty() ? "" : "; " + tags::valid_utf8(credit));
    // How its polished captions were made (model, prompt hash, verdicts), when it was polished.
    if (!job.polish.empty()) {
        auto p = imagery::parse_json_within_depth<json>(tags::valid_utf8(job.polish));
        if (p.is_object()) m["polish"] = std::move(p);
    }
    return m;
}

std::string meta_pickle(const Job& job) {
    auto m = meta_record(job);
    // The pickle carries no rule captions (SkyScript's has none) but does carry the polished ones,
    // which exist nowhere else in the image's own record.
    for (const auto field : captions::polished_caption_fields())
        for (const auto& e : job.captions)
            if (e.field == field) m[std::string(field)] = tags::valid_utf8(e.text);
    return to_pickle(m, {"box", "time", "transform"});
}

std::string meta_json_line(const Job& job) {
    auto m = meta_record(job);
    nlohmann::ordered_json line;
    line["filepath"] = image_relative_path(job.part, job.stem);
    for (const auto& [field, text] : job.captions) line[field] = tags::valid_utf8(text); // in registration order
    for (auto& [k, v] : m.items()) line[k] = std::move(v); // m is dropped: no deep copy of its tags and objects
    return json_text(line) + "\n";
}

std::string json_text(const nlohmann::ordered_json& value) {
    auto text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // The dump is valid UTF-8 and these code points can only be inside its strings.
    if (text.find("\xE2\x80\xA8") == std::string::npos && text.find("\xE2\x80\xA9") == std::string::npos && text.find("\xC2\x85") == std::string::npos)
        return text;
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(text[i + 2]) == 0xA8 || static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
            out += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
            i += 2;
        } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85) {
            out += "\\u0085";
            i += 1;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace skyscript::pipeline
