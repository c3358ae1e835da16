// skyscript-build tags: the vocabulary, for people designing a whitelist.

#include "cli_args.hpp"
#include "commands.hpp"
#include "tag_list.hpp"

#include <cstdio>

namespace skyscript::pipeline {

namespace {

constexpr const char* tags_help = R"(Usage: skyscript-build tags --list [--tags FILE|+FILE]

  --list            print the vocabulary: key=value TAB role TAB max GSD (m);
                    deny entries print as key TAB deny
  --tags FILE       use FILE instead of the default list; +FILE adds to it
  -h, --help        this text
)";

} // namespace

int command_tags(const std::vector<std::string>& args) {
    const CliArgs cli{args, {{"list", false, 0}, {"tags", true, 0}, {"help", false, 'h'}}};
    if (cli.flag("help") || !cli.flag("list")) {
        std::fputs(tags_help, cli.flag("help") ? stdout : stderr);
        return cli.flag("help") ? 0 : 2;
    }
    if (!cli.positional().empty()) throw UsageError("tags --list takes no positional argument");
    const auto list = tags::load_tag_option(cli.value("tags").value_or(""));
    for (const auto& e : list.entries()) {
        if (e.role == tags::Role::deny) std::printf("%s\tdeny\n", e.key.c_str());
        else std::printf("%s=%s\t%s\t%g\n", e.key.c_str(), e.value.c_str(), std::string(tags::role_name(e.role)).c_str(), e.max_gsd);
    }
    return 0;
}

} // namespace skyscript::pipeline
