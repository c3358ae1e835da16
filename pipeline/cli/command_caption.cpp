// skyscript-build caption KEY=VALUE... [--around KEY=VALUE,KEY=VALUE...]...
// One caption a line, in the order of the registered styles' fields (captions/caption_styles.hpp):
// line 1 title, line 2 title_multi_objects, then the chosen style's. For people trying tag sets and for scripts.
// Tags go through the vocabulary exactly as the planner passes them (tags::visible_tags),
// so what a user tries here is what the dataset gets.

#include "captions/caption_styles.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "tag_filters/tag_list.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "tag_filters/utf8_text.hpp"
#include "tag_filters/visible_tags.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <stdexcept>
#include <unordered_map>

namespace skyscript::pipeline {

namespace {

constexpr const char* caption_help = R"(Usage: skyscript-build caption KEY=VALUE... [--around TAGS]... [options]
       skyscript-build caption '{"KEY":"VALUE",...}' [--around TAGS]... [options]

Prints the captions SkyScript's rules give an object: `title` on line 1 and
`title_multi_objects` on line 2. Positional tags are the focus object (KEY=VALUE
words, or one JSON object as the catalog's `tags` column holds them); each --around
is one surrounding object, most prominent first.

Tags pass through the vocabulary as the planner passes them: only tags it lists
(feature or attribute) reach a caption; denied keys (name, addr:*, layer, ...) and
unknown tags are dropped, with --gsd so are tags not visible at that GSD, and an
object left without a feature tag is left out. One line on stderr says which tags
were dropped and why.

  --around TAGS          one surrounding object (repeatable): KEY=VALUE,KEY=VALUE...
                         or a JSON object, whose values may hold commas:
                         --around '{"power":"plant","plant:output:electricity":"19,9 MW"}'
  --tags FILE            tag list replacing the default vocabulary; +FILE adds to it
  --gsd G                image GSD in metres: drop tags whose max GSD is finer than G,
                         as the planner does for an image of that GSD (default: none)
  --max-surrounding N    surrounding objects named in line 2 (default 5)
  --caption-style S      rule (default) or natural: natural also prints
                         title_natural (line 3) and title_multi_objects_natural (line 4),
                         e.g. "a satellite image of a parking lot with an asphalt surface"
  -q, --quiet            print only the captions (errors still go to stderr)
  -h, --help             this text

Example:
  skyscript-build caption power=pole --around power=minor_line,cables=3,voltage=16000
)";

using OwnedTags = std::vector<std::pair<std::string, std::string>>;

// Control characters would break the one-line report.
std::string printable(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
    return out;
}

// An OSM object holds one value a key: `building=yes building=house` is a typo, not an object.
void refuse_repeated_keys(const OwnedTags& tags, const std::string& where) {
    std::unordered_map<std::string_view, std::size_t> first; // key -> its first index
    for (std::size_t i = 0; i < tags.size(); ++i) {
        const auto [it, fresh] = first.try_emplace(tags[i].first, i);
        if (fresh) continue;
        const auto& [key, value] = tags[i];
        throw UsageError(where + ": key `" + printable(key) + "` given twice (" + printable(key) + "=" + printable(tags[it->second].second) + ", " +
                         printable(key) + "=" + printable(value) + "); an OSM object has one value a key");
    }
}

std::pair<std::string, std::string> parse_tag(const std::string& text, const std::string& where) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(where + ": expected KEY=VALUE, got `" + tags::valid_utf8(text) + "`");
    // As the catalog holds them (osm/groundable_tags.cpp): invalid bytes are U+FFFD.
    return {tags::valid_utf8(text.substr(0, eq)), tags::valid_utf8(text.substr(eq + 1))};
}

// A JSON object of string values, in its own order (the caption orders tags by
// priority, then as given).
OwnedTags parse_json_tags(const std::string& text, const std::string& where) {
    nlohmann::ordered_json j;
    std::vector<std::string> keys; // the object's keys as written: the parsed object keeps one of a repeated key
    try {
        j = nlohmann::ordered_json::parse(text, [&](int depth, nlohmann::ordered_json::parse_event_t event, nlohmann::ordered_json& parsed) {
            if (depth == 1 && event == nlohmann::ordered_json::parse_event_t::key) keys.push_back(parsed.get<std::string>());
            return true;
        });
    } catch (const nlohmann::json::exception& e) {
        throw UsageError(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw UsageError(where + ": expected a JSON object {\"KEY\":\"VALUE\",...}");
    OwnedTags tags;
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string()) throw UsageError(where + ": the value of `" + key + "` is not a string");
        if (key.empty()) throw UsageError(where + ": empty key");
        tags.emplace_back(key, value.get<std::string>());
    }
    if (keys.size() != tags.size()) {
        std::unordered_map<std::string_view, int> seen;
        for (const auto& key : keys)
            if (++seen[key] == 2) throw UsageError(where + ": key `" + printable(key) + "` given twice; an OSM object has one value a key");
    }
    return tags;
}

// KEY=VALUE,KEY=VALUE... (values cannot hold commas: use the JSON form).
OwnedTags parse_around(const std::string& around) {
    if (around.starts_with('{')) return parse_json_tags(around, "--around");
    OwnedTags tags;
    std::size_t start = 0;
    for (;;) {
        const auto comma = around.find(',', start);
        tags.push_back(parse_tag(around.substr(start, comma == std::string::npos ? std::string::npos : comma - start), "--around"));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    refuse_repeated_keys(tags, "--around");
    return tags;
}

// "name=Foo (denied key), surface=asphalt (max GSD 0.6 m, finer than 10 m)"
std::string describe_dropped(const tags::TagMatcher& matcher, std::span<const tags::TagView> tags,
                             const std::vector<tags::DroppedTag>& dropped, double gsd) {
    std::string text;
    for (const auto& d : dropped) {
        const auto& [key, value] = tags[d.index];
        if (!text.empty()) text += ", ";
        text += printable(key) + "=" + printable(value) + " (";
        if (d.reason == tags::DropReason::finer_than_gsd) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "max GSD %g m, finer than %g m", matcher.find(key, value)->max_gsd, gsd);
            text += buf;
        } else {
            text += tags::drop_reason_text(d.reason);
        }
        text += ")";
    }
    return text;
}

std::vector<tags::TagView> views(const OwnedTags& tags) {
    return {tags.begin(), tags.end()};
}

std::vector<captions::Tag> caption_tags(const std::vector<tags::TagView>& tags) {
    std::vector<captions::Tag> out;
    out.reserve(tags.size());
    for (const auto& [k, v] : tags) out.push_back({k, v});
    return out;
}

} // namespace

int command_caption(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"around", true, 0}, {"max-surrounding", true, 0}, {"caption-style", true, 0}, {"tags", true, 0},
                             {"gsd", true, 0}, {"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::fputs(caption_help, stdout);
        return 0;
    }
    if (cli.positional().empty()) throw UsageError("caption needs at least one KEY=VALUE for the focus object");
    captions::CaptionOptions options;
    if (auto n = cli.value("max-surrounding")) {
        const double v = parse_double(*n, "--max-surrounding");
        if (v < 0 || v != static_cast<double>(static_cast<std::size_t>(v))) throw UsageError("--max-surrounding: expected a whole number >= 0");
        options.max_surrounding = static_cast<std::size_t>(v);
    }
    double gsd = 0; // no GSD: every listed tag is visible
    if (auto g = cli.value("gsd")) {
        gsd = parse_double(*g, "--gsd");
        if (!(gsd > 0)) throw UsageError("--gsd: expected a number of metres > 0");
    }
    const auto style = cli.value("caption-style").value_or("rule");
    if (!captions::find_caption_style(style))
        throw UsageError("--caption-style: expected " + captions::caption_style_choices() + ", got `" + style + "`");

    OwnedTags focus_tags;
    if (cli.positional().size() == 1 && cli.positional()[0].starts_with('{')) {
        focus_tags = parse_json_tags(cli.positional()[0], "caption");
    } else {
        for (const auto& t : cli.positional()) focus_tags.push_back(parse_tag(t, "caption"));
        refuse_repeated_keys(focus_tags, "caption");
    }
    std::vector<OwnedTags> around_tags;
    for (const auto& around : cli.values("around")) around_tags.push_back(parse_around(around));

    const tags::TagMatcher matcher{load_tag_option(cli.value("tags").value_or(""))};
    std::string report; // what was dropped, for the one stderr line
    std::vector<tags::DroppedTag> dropped;

    const auto focus_in = views(focus_tags);
    const auto focus = caption_tags(tags::visible_tags(matcher, focus_in, gsd, &dropped));
    if (focus.empty())
        throw std::runtime_error("caption: the focus object keeps no feature tag, so the pipeline never captions it: " +
                                 describe_dropped(matcher, focus_in, dropped, gsd));
    if (!dropped.empty()) report = describe_dropped(matcher, focus_in, dropped, gsd);

    std::vector<std::vector<captions::Tag>> objects;
    for (std::size_t i = 0; i < around_tags.size(); ++i) {
        dropped.clear();
        const auto in = views(around_tags[i]);
        auto kept = caption_tags(tags::visible_tags(matcher, in, gsd, &dropped));
        if (!dropped.empty()) {
            if (!report.empty()) report += "; ";
            report += "--around " + std::to_string(i + 1) + (kept.empty() ? " (left out): " : ": ") + describe_dropped(matcher, in, dropped, gsd);
        }
        if (!kept.empty()) objects.push_back(std::move(kept));
    }
    if (!report.empty() && !cli.flag("quiet")) std::fprintf(stderr, "skyscript-build caption: dropped %s\n", report.c_str());
    std::vector<captions::TagSet> surrounding(objects.begin(), objects.end());

    const captions::CaptionStyles styles{style, {options, tags::builtin_tag_names()}};
    captions::CaptionEntries entries;
    styles.caption(focus, surrounding, entries);
    for (const auto& e : entries) std::printf("%s\n", e.text.c_str());
    return 0;
}

} // namespace skyscript::pipeline
