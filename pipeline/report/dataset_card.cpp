#include "pipeline/report/dataset_card.hpp"

#include "captions/caption_styles.hpp"
#include "imagery/sha256_hex.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_options.hpp"
#include "pipeline/common/option_table.hpp"
#include "pipeline/common/shell_word.hpp"
#include "pipeline/dataset/meta_record.hpp"
#include "pipeline/report/html_text.hpp"
#include "tag_filters/utf8_text.hpp"

#include <cstdio>
#include <filesystem>
#include <set>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// YAML double-quoted scalar.
std::string yaml_quoted(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        unsigned cp = 0;
        const std::size_t n = tags::decode_utf8(s, i, cp);
        // YAML readers refuse DEL, C1 controls and U+FFFE/U+FFFF in a stream, and fold breaks.
        if (n == 0 || tags::breaks_one_line(cp) || cp == 0xFFFE || cp == 0xFFFF) {
            out.push_back(' ');
        } else {
            if (s[i] == '"' || s[i] == '\\') out.push_back('\\');
            out.append(s, i, n);
        }
        i += n ? n : 1;
    }
    return out + "\"";
}

// Markdown table cell: no `|`, no line break, no control character (an ESC or ^A from an OSM
// value would reach a terminal or an editor as it is).
std::string cell(std::string s) {
    for (auto& c : s)
        if (c == '|' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    return s;
}

// A table cell of prose from outside (a source's licence and attribution, in sources.toml):
// shown as written, never as markup. Markdown would take `<img onerror=...>` for HTML and
// `[x](javascript:...)` for a link; a backslash before each punctuation character that starts
// markup makes it a literal one (CommonMark 2.4). Parentheses stay: no link without brackets.
std::string text_cell(const std::string& s) {
    std::string out;
    for (const char c : cell(tags::valid_utf8(s))) {
        if (std::string_view("\\`*_[]<>&~").find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

// `s` as a Markdown code span, shown as it is: delimited by one backtick more than its longest
// run of them (a value holding ` would otherwise end the span, and markup after it would be
// HTML to the Hub: `man_made=x`<img onerror=...>`y`).
std::string code(const std::string& s) {
    std::size_t longest = 0, run = 0;
    for (const char c : s) longest = std::max(longest, run = c == '`' ? run + 1 : 0);
    const std::string fence(longest + 1, '`');
    return longest ? fence + " " + s + " " + fence : fence + s + fence;
}

// The Hub's size category for n examples.
std::string size_category(std::int64_t n) {
    if (n < 1000) return "n<1K";
    if (n < 10000) return "1K<n<10K";
    if (n < 100000) return "10K<n<100K";
    if (n < 1000000) return "100K<n<1M";
    if (n < 10000000) return "1M<n<10M";
    return "10M<n<100M";
}

bool exists(const std::string& out_dir, const std::string& relative) { return fs::exists(BuildDir(out_dir).path(relative)); }

// A split the Hub's loaders can read: imagefolder takes its features from each split's
// metadata.jsonl (an empty one has none, and differs from the others), webdataset from a tar.
bool hub_split_has_rows(const std::string& out_dir, const std::string& format, const std::string& split_dir) {
    std::error_code ec;
    const auto dir = BuildDir(out_dir).path(format + "/" + split_dir);
    if (format == "hf") return fs::file_size(dir + "/metadata.jsonl", ec) > 0 && !ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".tar") return true;
    return false;
}

// The options that differ from their defaults, as a command line would give them.
std::string command_line(const ReportData& r) {
    // Each value one shell word: a file name `$(id).pbf` pasted bare would run `id`.
    std::string out = "skyscript-build " + shell_word(fs::path(r.tool.count("input") ? r.tool.at("input") : std::string("INPUT.osm.pbf")).filename().string()) + " -o OUT";
    for (const auto& row : option_table) {
        // --catalog says where a shared catalog was read, not what the dataset is.
        if (row.stage.empty() || row.help.empty() || row.name == "catalog") continue;
        const auto it = r.options.find(std::string(row.name));
        if (it == r.options.end() || it->second == row.default_value || it->second.empty()) continue;
        // Paths are the builder's: only their file names say anything to a reader (with the + of --tags +FILE).
        const bool path = row.type == OptionType::path && it->second != "open";
        const auto plus = adds_to_builtin(row, it->second) ? std::string("+") : std::string();
        const auto value = path ? plus + fs::path(it->second.substr(plus.size())).filename().string() : it->second;
        out.append(" --").append(row.name); // appends, not `" " + string`: GCC 12's false -Wrestrict
        if (row.type != OptionType::flag) out.append(" ").append(shell_word(value));
    }
    return out;
}

// Rows of the language_polished config's files (the images with both polished captions); -1
// when the card has no such config (a build with no CSVs).
std::int64_t polished_pairs(const ReportData& r) {
    for (const auto& config : card_configs(r)) {
        if (config.name != "language_polished") continue;
        std::int64_t n = 0;
        for (const auto& [split, file] : config.files)
            if (const auto it = r.files.csv_rows.find(file); it != r.files.csv_rows.end()) n += it->second;
        return n;
    }
    return -1;
}

} // namespace

std::vector<CardConfig> card_configs(const ReportData& r) {
    std::vector<CardConfig> configs;
    if (r.files.csv_rows.count("SkyScript_train_unfiltered.csv"))
        configs.push_back({"default", "csv", {{"train", "SkyScript_train_unfiltered.csv"}, {"validation", "SkyScript_val.csv"}, {"test", "SkyScript_test.csv"}}});
    if (r.files.csv_rows.count("SkyScript_train_unfiltered_language_polished.csv"))
        configs.push_back({"language_polished", "csv",
                           {{"train", "SkyScript_train_unfiltered_language_polished.csv"},
                            {"validation", "SkyScript_val_language_polished.csv"},
                            {"test", "SkyScript_test_language_polished.csv"}}});
    // The Hub's forms list only the splits that have samples (a small build may have no
    // validation images): an empty split's files would stop the loader.
    const auto hub = [&](const char* name, const std::string& format, const char* pattern, const std::vector<std::pair<std::string, std::string>>& splits) {
        CardConfig config{name, name, {}};
        for (const auto& [split, dir] : splits)
            if (hub_split_has_rows(r.out_dir, format, dir)) config.files.emplace_back(split, format + "/" + dir + pattern);
        if (!config.files.empty()) configs.push_back(std::move(config));
    };
    if (exists(r.out_dir, "hf/train/metadata.jsonl")) hub("imagefolder", "hf", "/*", {{"train", "train"}, {"validation", "validation"}, {"test", "test"}});
    if (exists(r.out_dir, "webdataset/train")) hub("webdataset", "webdataset", "/*.tar", {{"train", "train"}, {"validation", "val"}, {"test", "test"}});
    return configs;
}

std::string dataset_card(const ReportData& r) {
    std::string c;
    // The input's file name on one line: its line breaks made headings and closed the fences.
    const auto input = r.tool.count("input") ? tags::one_line(fs::path(r.tool.at("input")).filename().string(), 200) : std::string("an OpenStreetMap extract");
    const auto osm_time = r.tool.count("input_osm_timestamp") ? r.tool.at("input_osm_timestamp") : std::string();
    const bool polished = r.options.count("polish") && !r.options.at("polish").empty();
    std::set<std::string> terms{osm_licence};
    for (const auto& t : r.licences) terms.insert(t.licence.empty() ? "unknown" : t.licence);

    // The header the Hub reads: licence, tasks, size, and a config per written format.
    c += "---\n";
    c += "license: other\n";
    c += "license_name: " + yaml_quoted("mixed: OpenStreetMap data ODbL-1.0, imagery under each source's terms") + "\n";
    c += "licenses:\n";
    for (const auto& t : terms) c += "- " + yaml_quoted(t) + "\n";
    c += "pretty_name: " + yaml_quoted("SkyScript-style image-text pairs from " + input) + "\n";
    c += "language:\n- en\n";
    c += "task_categories:\n- zero-shot-image-classification\n- image-to-text\n- text-to-image\n";
    c += "tags:\n- remote-sensing\n- satellite-imagery\n- aerial-imagery\n- openstreetmap\n- clip\n- skyscript\n";
    c += "size_categories:\n- " + size_category(r.pairs) + "\n";
    c += "configs:\n";
    for (const auto& config : card_configs(r)) {
        c += "- config_name: " + config.name + "\n  data_files:\n";
        for (const auto& [split, path] : config.files) c += "  - split: " + split + "\n    path: " + yaml_quoted(path) + "\n";
    }
    c += "---\n\n";

    c += "# SkyScript-style image-text pairs from " + (r.tool.count("input") ? code(input) : input) + "\n\n";
    c += thousands(r.pairs) + " remote-sensing images, each of one OpenStreetMap object, with captions made from the object's tags by "
         "SkyScript's rules (Wang et al., AAAI 2024): `title` names the object, `title_multi_objects` the object and the objects "
         "around it";
    if (polished) c += "; `title_polished` and `title_multi_objects_polished` are the same captions rewritten by a language model and checked against the tags";
    c += ". Built with " + (r.tool.count("version") ? r.tool.at("version") : std::string("skyscript-build")) + ".\n\n";
    // A polish that did not finish leaves images without polished text: say how many, not "the same captions".
    if (const auto with_both = polished_pairs(r); polished && with_both >= 0 && with_both < r.pairs)
        c += "Only " + thousands(with_both) + " of the " + thousands(r.pairs) + " images have both polished captions (the others' requests to "
             "the language model failed or were not made yet: their polished fields are empty): the `language_polished` files hold those " + thousands(with_both) +
             ". `skyscript-build polish` asks again for the missing ones.\n\n";

    c += "## How it was built\n\n";
    c += "```\n" + command_line(r) + "\n```\n\n"; // one line: control bytes are $'\xHH' in their words
    c += "- OpenStreetMap input: " + code(input) + (osm_time.empty() ? "" : ", data as of " + osm_time) + "\n";
    for (const char* k : {"libosmium", "gdal", "sqlite"})
        if (r.tool.count(k)) c += "- " + std::string(k) + " " + r.tool.at(k) + "\n";
    c += "- Objects are sampled from those with a visually groundable tag; each image is a tile around one of them, cut from the "
         "finest source that covers it; the tags a caption names are those visible at the image's resolution.\n\n";

    c += "## Contents\n\n| source | images |\n|---|---:|\n";
    for (const auto& [source, n] : r.pairs_by_source) c += "| " + text_cell(source) + " | " + thousands(n) + " |\n";
    c += "\n| acquisition year | images |\n|---|---:|\n";
    for (const auto& [year, n] : r.pairs_by_year) c += "| " + (year == "0" ? std::string("unknown") : year) + " | " + thousands(n) + " |\n";
    c += "\n| GSD (m) | images |\n|---|---:|\n";
    for (const auto& [gsd, n] : r.pairs_by_gsd) {
        char g[32];
        std::snprintf(g, sizeof g, "%g", gsd);
        c += std::string("| ") + g + " | " + thousands(n) + " |\n";
    }
    c += "\n| focus tag (most images first) | images |\n|---|---:|\n";
    for (std::size_t i = 0; i < r.top_tags.size() && i < 25; ++i) c += "| " + code(cell(r.top_tags[i].first)) + " | " + thousands(r.top_tags[i].second) + " |\n";
    c += "\n";

    c += "## Splits\n\n| file | rows |\n|---|---:|\n";
    for (const auto& [name, rows] : r.files.csv_rows) c += "| `" + name + "` | " + thousands(rows) + " |\n";
    const auto option = [&](const char* k) { return r.options.count(k) ? r.options.at(k) : std::string(); };
    c += "\nImages are split by spatial block (`--split-block " + option("split-block") + "` degrees of the box centre), so no block "
         "has images in two splits; validation `" + option("val-size") + "`, test `" + option("test-size") + "`. Columns: `filepath` "
         "(relative to this folder), then the captions. Each image's metadata (tags, box, time, source, licence, objects in pixels) is in "
         "`meta.jsonl` and `metaK/STEM.pickle`.\n\n";

    c += "## Licences and attribution\n\n";
    c += "Every image's captions, tags and geometry are derived from OpenStreetMap: **ODbL 1.0**, credit \"" + std::string(osm_attribution) +
         "\" (all " + thousands(r.pairs) + " images; a database made from this one must be offered under the ODbL too). The pixels are "
         "under their source's terms:\n\n| source | licence | attribution | images |\n|---|---|---|---:|\n";
    for (const auto& t : r.licences)
        c += "| " + text_cell(t.alias) + " | " + (t.licence.empty() ? "unknown (the source has no `licence`)" : text_cell(t.licence)) + " | " + text_cell(t.attribution) +
             " | " + thousands(t.images) + " |\n";
    c += "\nEach image's own `licence` and `attribution` are in its metadata. Earth Engine's terms may restrict redistributing pixels "
         "of some collections: check each source's terms before publishing.\n\n";

    c += "## Known limitations\n\n";
    c += "- Captions are made by rules from tags, not by people looking at the images: they name what OpenStreetMap maps, in its "
         "vocabulary, and miss what it does not.\n";
    c += "- OpenStreetMap is uneven: complete in some places, sparse in others; objects may have changed between the mapping and the image.\n";
    c += "- An image may show its object partly hidden (trees, shadows, clouds) or not at all when the source's geolocation is off.\n";
    if (polished) c += "- Polished captions come from a language model; the check keeps only those naming the focus feature with no number or "
                       "feature word the tags lack, but it cannot see the image.\n";
    c += "\n## Citation\n\n```\n@inproceedings{wang2024skyscript,\n  title={SkyScript: A Large and Semantically Diverse Vision-Language Dataset for Remote Sensing},\n"
         "  author={Wang, Zhecheng and Prabha, Rajanie and Huang, Tianyuan and Wu, Jiajun and Rajagopal, Ram},\n  booktitle={AAAI},\n  year={2024}\n}\n```\n";
    return c;
}

nlohmann::ordered_json croissant(const ReportData& r) {
    using json = nlohmann::ordered_json;
    json j;
    j["@context"] = {{"@language", "en"},
                     {"@vocab", "https://schema.org/"},
                     {"citeAs", "cr:citeAs"},
                     {"column", "cr:column"},
                     {"conformsTo", "dct:conformsTo"},
                     {"cr", "http://mlcommons.org/croissant/"},
                     {"data", {{"@id", "cr:data"}, {"@type", "@json"}}},
                     {"dataType", {{"@id", "cr:dataType"}, {"@type", "@vocab"}}},
                     {"dct", "http://purl.org/dc/terms/"},
                     {"extract", "cr:extract"},
                     {"field", "cr:field"},
                     {"fileProperty", "cr:fileProperty"},
                     {"fileObject", "cr:fileObject"},
                     {"fileSet", "cr:fileSet"},
                     {"format", "cr:format"},
                     {"includes", "cr:includes"},
                     {"isLiveDataset", "cr:isLiveDataset"},
                     {"jsonPath", "cr:jsonPath"},
                     {"key", "cr:key"},
                     {"md5", "cr:md5"},
                     {"parentField", "cr:parentField"},
                     {"path", "cr:path"},
                     {"recordSet", "cr:recordSet"},
                     {"references", "cr:references"},
                     {"regex", "cr:regex"},
                     {"repeated", "cr:repeated"},
                     {"replace", "cr:replace"},
                     {"sc", "https://schema.org/"},
                     {"separator", "cr:separator"},
                     {"source", "cr:source"},
                     {"subField", "cr:subField"},
                     {"transform", "cr:transform"}};
    j["@type"] = "sc:Dataset";
    const auto input = r.tool.count("input") ? fs::path(r.tool.at("input")).filename().string() : std::string("OpenStreetMap");
    j["name"] = "skyscript-" + fs::path(input).stem().stem().string();
    j["description"] = std::to_string(r.pairs) + " remote-sensing image-text pairs from OpenStreetMap objects in " + input +
                       ", captioned from their tags by SkyScript's rules (README.md).";
    j["conformsTo"] = "http://mlcommons.org/croissant/1.0";
    j["citeAs"] = "Wang et al., SkyScript: A Large and Semantically Diverse Vision-Language Dataset for Remote Sensing, AAAI 2024";
    json licences = json::array({"https://opendatacommons.org/licenses/odbl/1-0/"});
    for (const auto& t : r.licences) licences.push_back(t.licence.empty() ? "unknown" : t.licence);
    j["license"] = licences;
    // Where it will live is the publisher's to say; until then the card beside this file.
    j["url"] = "README.md";
    j["creator"] = {{"@type", "sc:Organization"}, {"name", "OpenStreetMap contributors and the imagery providers (README.md)"}};
    const auto osm_time = r.tool.count("input_osm_timestamp") ? r.tool.at("input_osm_timestamp") : std::string();
    // The data's date (byte-identical reruns); none when the PBF's header names none, not 1970-01-01.
    if (osm_time.size() >= 10) j["datePublished"] = osm_time.substr(0, 10);
    j["version"] = "1.0.0";
    j["keywords"] = {"remote sensing", "satellite imagery", "OpenStreetMap", "image-text", "CLIP"};
    // Where and when: schema.org's spatialCoverage (a GeoShape box, "south west north east") and
    // temporalCoverage (the acquisition years), which GeoCroissant builds on.
    if (r.extent) {
        char box[160];
        std::snprintf(box, sizeof box, "%.6f %.6f %.6f %.6f", (*r.extent)[1], (*r.extent)[0], (*r.extent)[3], (*r.extent)[2]);
        j["spatialCoverage"] = {{"@type", "sc:Place"}, {"geo", {{"@type", "sc:GeoShape"}, {"box", box}}}};
    }
    std::string first, last;
    for (const auto& [year, n] : r.pairs_by_year)
        if (year != "0") {
            if (first.empty()) first = year;
            last = year;
        }
    if (!first.empty()) j["temporalCoverage"] = first == last ? first : first + "/" + last;

    json distribution = json::array();
    std::vector<std::string> csvs;
    for (const auto& [name, rows] : r.files.csv_rows) {
        const auto path = BuildDir(r.out_dir).path(name);
        distribution.push_back({{"@type", "cr:FileObject"},
                                {"@id", name},
                                {"name", name},
                                {"contentUrl", name},
                                {"contentSize", std::to_string(fs::exists(path) ? fs::file_size(path) : 0) + " B"},
                                {"encodingFormat", "text/csv"},
                                {"sha256", imagery::sha256_file_hex(path)}});
        csvs.push_back(name);
    }
    distribution.push_back({{"@type", "cr:FileSet"}, {"@id", "images"}, {"name", "images"}, {"encodingFormat", "image/jpeg"}, {"includes", "images*/*.jpg"}});
    j["distribution"] = distribution;

    json record_sets = json::array();
    std::vector<std::string> columns{"filepath", "title", "title_multi_objects"};
    const bool natural = r.options.count("caption-style") && r.options.at("caption-style") == "natural";
    if (natural) columns.insert(columns.end(), {"title_natural", "title_multi_objects_natural"});
    if (r.options.count("polish") && !r.options.at("polish").empty())
        for (const auto f : captions::polished_caption_fields()) columns.emplace_back(f);
    for (const auto& [id, file] : std::vector<std::pair<std::string, std::string>>{
             {"train", "SkyScript_train_unfiltered.csv"}, {"validation", "SkyScript_val.csv"}, {"test", "SkyScript_test.csv"}}) {
        if (!r.files.csv_rows.count(file)) continue;
        json fields = json::array();
        for (const auto& col : columns)
            fields.push_back({{"@type", "cr:Field"},
                              {"@id", id + "/" + col},
                              {"name", col},
                              {"description", col == "filepath" ? "the image, relative to the dataset's folder" : "a caption of the image"},
                              {"dataType", "sc:Text"},
                              {"source", {{"fileObject", {{"@id", file}}}, {"extract", {{"column", col}}}}}});
        record_sets.push_back({{"@type", "cr:RecordSet"}, {"@id", id}, {"name", id}, {"description", "the " + id + " split"}, {"field", fields}});
    }
    record_sets.push_back({{"@type", "cr:RecordSet"},
                           {"@id", "image_files"},
                           {"name", "image_files"},
                           {"description", "the images, by file name"},
                           {"field", json::array({json{{"@type", "cr:Field"},
                                                       {"@id", "image_files/image"},
                                                       {"name", "image"},
                                                       {"dataType", "sc:ImageObject"},
                                                       {"source", {{"fileSet", {{"@id", "images"}}}, {"extract", {{"fileProperty", "content"}}}}}},
                                                  json{{"@type", "cr:Field"},
                                                       {"@id", "image_files/filename"},
                                                       {"name", "filename"},
                                                       {"dataType", "sc:Text"},
                                                       {"source", {{"fileSet", {{"@id", "images"}}}, {"extract", {{"fileProperty", "filename"}}}}}}})}});
    j["recordSet"] = record_sets;
    return j;
}

} // namespace skyscript::pipeline
