// skyscript-build caption KEY=VALUE... [--around KEY=VALUE,KEY=VALUE...]...
// Line 1: title; line 2: title_multi_objects. For people trying tag sets and for scripts.

#include "captioner.hpp"
#include "natural_captioner.hpp"
#include "tag_list.hpp"
#include "cli_args.hpp"
#include "commands.hpp"

#include <cstdio>

namespace skyscript::pipeline {

namespace {

constexpr const char* caption_help = R"(Usage: skyscript-build caption KEY=VALUE... [--around KEY=VALUE,KEY=VALUE...]... [options]

Prints the captions SkyScript's rules give an object: `title` on line 1 and
`title_multi_objects` on line 2. Positional tags are the focus object; each
--around is one surrounding object (most prominent first), its tags joined by commas.

  --around TAGS          one surrounding object (repeatable)
  --max-surrounding N    surrounding objects named in line 2 (default 5)
  --caption-style S      rule (default) or natural: natural also prints
                         title_natural (line 3) and title_multi_objects_natural (line 4),
                         e.g. "a satellite image of a parking lot with an asphalt surface"
  -h, --help             this text

Example:
  skyscript-build caption power=pole --around power=minor_line,cables=3,voltage=16000
)";

captions::Tag parse_tag(const std::string& text, const std::string& where) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(where + ": expected KEY=VALUE, got `" + text + "`");
    return {std::string_view(text).substr(0, eq), std::string_view(text).substr(eq + 1)};
}

} // namespace

int command_caption(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"around", true, 0}, {"max-surrounding", true, 0}, {"caption-style", true, 0}, {"help", false, 'h'}}};
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
    std::vector<captions::Tag> focus;
    for (const auto& t : cli.positional()) focus.push_back(parse_tag(t, "caption"));

    // Split each --around at commas; the strings live in `pieces` while tags point into them.
    std::vector<std::vector<std::string>> pieces;
    for (const auto& around : cli.values("around")) {
        auto& list = pieces.emplace_back();
        std::size_t start = 0;
        for (;;) {
            const auto comma = around.find(',', start);
            list.push_back(around.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    std::vector<std::vector<captions::Tag>> objects;
    for (const auto& list : pieces) {
        auto& object = objects.emplace_back();
        for (const auto& t : list) object.push_back(parse_tag(t, "--around"));
    }
    std::vector<captions::TagSet> surrounding(objects.begin(), objects.end());

    const auto style = cli.value("caption-style").value_or("rule");
    if (style != "rule" && style != "natural") throw UsageError("--caption-style: expected rule or natural, got `" + style + "`");
    const captions::Captioner captioner{captions::CaptionTables::builtin(), options};
    std::printf("%s\n%s\n", captioner.title(focus).c_str(), captioner.title_multi_objects(focus, surrounding).c_str());
    if (style == "natural") {
        const auto names = captions::NameTable::parse(tags::builtin_tag_names());
        const captions::NaturalCaptioner natural{names, captions::CaptionTables::builtin(), options};
        std::printf("%s\n%s\n", natural.title(focus).c_str(), natural.title_multi_objects(focus, surrounding).c_str());
    }
    return 0;
}

} // namespace skyscript::pipeline
