// skyscript-build tags: the vocabulary, for people designing a whitelist.

#include "osm/tag_stats.hpp"
#include "pipeline/cli/commands.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/progress.hpp"
#include "pipeline/common/system_info.hpp"
#include "pipeline/common/tag_list_file.hpp"
#include "tag_filters/hidden_rules.hpp"
#include "tag_filters/tag_matcher.hpp"
#include "tag_filters/utf8_text.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace skyscript::pipeline {

namespace {

constexpr const char* tags_help = R"(Usage: skyscript-build tags --list [--tags FILE|+FILE]
       skyscript-build tags --stats INPUT.osm.pbf [--tags FILE|+FILE] [--top N]

  --list            print the vocabulary: key=value TAB role TAB max GSD (m);
                    deny entries print as key TAB deny
  --stats INPUT     count, in INPUT, the objects carrying each vocabulary entry
                    (most frequent first), then the most frequent tags whose key the
                    vocabulary neither lists nor denies: candidates for a whitelist
  --top N           how many unknown tags and keys to print (default 50)
  --tags FILE       use FILE instead of the default list; +FILE adds to it
  -q, --quiet       no progress
  -h, --help        this text
)";

void print_list(const tags::TagList& list) {
    for (const auto& e : list.entries()) {
        if (e.role == tags::Role::deny) std::printf("%s\tdeny\n", e.key.c_str());
        else std::printf("%s=%s\t%s\t%g\n", e.key.c_str(), e.value.c_str(), std::string(tags::role_name(e.role)).c_str(), e.max_gsd);
    }
}

void print_stats(const osm::TagStats& s, const tags::TagMatcher& matcher, const std::string& input) {
    const auto& entries = matcher.entries();
    std::vector<std::size_t> order(entries.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s.entry_objects[a] > s.entry_objects[b]; });
    std::printf("# %s: %llu objects, %llu tagged, %llu with a groundable feature tag, %llu of them hidden from above "
                "(tag_filters/hidden.tsv: not catalog objects)\n",
                tags::one_line(input).c_str(), static_cast<unsigned long long>(s.objects), static_cast<unsigned long long>(s.tagged_objects),
                static_cast<unsigned long long>(s.candidate_objects), static_cast<unsigned long long>(s.hidden_candidates));
    if (s.unreadable_tags)
        std::printf("# %llu objects with unreadable tags (a NUL byte in a key or value): their tags are not counted\n",
                    static_cast<unsigned long long>(s.unreadable_tags));
    std::printf("# vocabulary entries: key=value\trole\tmax_gsd\tobjects\n");
    for (auto i : order) {
        const auto& e = entries[i];
        if (e.role == tags::Role::deny || s.entry_objects[i] == 0) continue;
        std::printf("%s=%s\t%s\t%g\t%llu\n", e.key.c_str(), e.value.c_str(), std::string(tags::role_name(e.role)).c_str(),
                    e.max_gsd, static_cast<unsigned long long>(s.entry_objects[i]));
    }
    std::printf("# unknown keys (neither listed nor denied): key\tobjects\n");
    // Keys and tags from the file, each one field of one row: a tab or line break in one made
    // rows of its own, and an escape reached the terminal.
    for (const auto& [k, n] : s.unknown_keys) std::printf("%s\t%llu\n", tags::one_line(k).c_str(), static_cast<unsigned long long>(n));
    std::printf("# unknown tags: key=value\tobjects\n");
    for (const auto& [t, n] : s.unknown_tags) std::printf("%s\t%llu\n", tags::one_line(t).c_str(), static_cast<unsigned long long>(n));
}

} // namespace

int command_tags(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"list", false, 0}, {"stats", true, 0}, {"top", true, 0}, {"tags", true, 0},
                             {"quiet", false, 'q'}, {"help", false, 'h'}}};
    if (cli.flag("help")) {
        std::fputs(tags_help, stdout);
        return 0;
    }
    if (cli.flag("list") == cli.flag("stats")) throw UsageError("tags needs exactly one of --list and --stats");
    if (!cli.positional().empty()) throw UsageError("tags takes no positional argument (the input goes after --stats)");
    const auto list = load_tag_option(cli.value("tags").value_or(""));
    if (cli.flag("list")) {
        print_list(list);
        return 0;
    }
    std::size_t top = 50;
    if (auto t = cli.value("top")) {
        const double v = parse_double(*t, "--top");
        if (v < 1 || v != static_cast<double>(static_cast<std::size_t>(v))) throw UsageError("--top: expected a whole number >= 1");
        top = static_cast<std::size_t>(v);
    }
    const auto input = *cli.value("stats");
    const tags::TagMatcher matcher{list};
    Progress progress{"tags --stats", cli.flag("quiet")};
    const auto stats = osm::collect_tag_stats(input, matcher, tags::HiddenRules::builtin(), top, usable_cores(), [&](std::uint64_t done, std::uint64_t total) {
        progress.update(done, total, 0, "");
    });
    progress.finish();
    print_stats(stats, matcher, input);
    return 0;
}

} // namespace skyscript::pipeline
