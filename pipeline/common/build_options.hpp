#pragma once
// The options of a dataset build, from three places in order of precedence:
// command-line flags > `--config FILE.toml` > what OUT/state.sqlite recorded (for a later
// stage or a rerun) > built-in defaults. Every option is one row of option_table.hpp: its
// name (the long flag, also the TOML key, `-` or `_`), its type, its default, and the stage
// whose finished work it changes ("" for options that only steer a run: --quiet, --in-flight).
// The values actually used are stored in the state DB, so `fetch OUT` uses what `plan`
// used and a rerun that would change finished work is refused with one line.

#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/option_table.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

// The values a text option takes, from the registry that owns them (caption styles, output
// formats), set by the command line before any option is read; checked as values are given.
void set_option_choices(OptionName name, std::vector<std::string> values);

class BuildOptions {
public:
    // Values given by flags (cli), from a TOML file (`--config`), from the state DB (stored).
    void set(const std::string& name, const std::string& value, const std::string& origin);
    void merge_cli(const CliArgs& cli);
    void merge_toml_file(const std::string& path);
    // Stored values fill only what flags and the config did not set. `origin` (the state DB's
    // path) names a recorded number, or true/false, that is none: a state DB edited by hand.
    void merge_stored(const std::map<std::string, std::string>& stored, const std::string& origin = "");

    // Names checked when the code compiles (OptionName): an unknown one does not build.
    bool has(OptionName name) const;
    std::string text(OptionName name) const;        // value or default
    std::vector<std::string> values(OptionName name) const; // a repeatable option's values (text() joins them with newlines)
    long long integer(OptionName name) const;
    double number(OptionName name) const;
    bool flag(OptionName name) const;

    // Values that change finished work (every option with a stage), for storing and comparing.
    std::map<std::string, std::string> recorded() const;

    // A later check's message ("--val-size expects ...", made where the option's stage reads
    // it) with the place its value came from in front when that is a config file (`cfg.toml:3:`),
    // as the checks made when a value is given have it; otherwise the message as it is.
    std::string with_origin(const std::string& message) const;

private:
    std::string value_of(const OptionRow& row) const; // value or default
    // --bbox and --polygon given together (flags and config): refused before OUT is touched.
    void check_exclusive() const;
    std::map<std::string, std::string, std::less<>> values_; // by canonical name
    std::map<std::string, std::string, std::less<>> origins_; // where each value came from: "command line", FILE:LINE
};

// CLI specs for CliArgs from option_table (+ the positional input, -h).
std::vector<OptionSpec> build_option_specs();
// The options part of --help, one line each, grouped by stage.
std::string build_options_help(bool with_output = true);

// Whether a --tags or --hidden value is +FILE: the file adds to the built-in list, and its
// name follows the +.
bool adds_to_builtin(const OptionRow& row, std::string_view value);

// The file a path option's value names, and what around it is not a file name: the + of
// +FILE, the ,NAME of --scores FILE,NAME (`named`). No file for the word `open` of --sources,
// an empty value, or an option that is not a path.
struct OptionFile {
    std::string prefix, file, suffix;
    bool named = false;
};
OptionFile option_file(const OptionRow& row, const std::string& value);

// Whether `name` may be the NAME of --scores FILE,NAME: it names files
// (SkyScript_train_top30pct_filtered_by_NAME.csv) and a column: 1-64 letters, digits, _ or -.
// After a comma, anything else is part of FILE (a folder or file name with a comma).
bool is_scores_name(std::string_view name);

// A path option's value with its file made absolute and lexically normal, what OUT records:
// a later stage run from another folder (a scheduler's job, `fetch /data/out` from home) reads
// the file the build was given, not one of the same name there, or none. What is not a file
// name is kept: the + of --tags +FILE and --hidden +FILE, the ,NAME of --scores FILE,NAME,
// the word `open` of --sources (unless a file of that name is here, which wins, as it does
// when the sources are read). Other options' values are returned as they are.
std::string absolute_option_value(const OptionRow& row, const std::string& value);

// Whether a value OUT recorded and one asked now are the same: equal; for a number, the same
// number (--margin 0.10 is 0.1); for a path option recorded before paths were made absolute,
// the same once made absolute here (a build resumed from the folder it was started in).
bool same_option_value(const OptionRow& row, const std::string& recorded, const std::string& asked);

// The first recorded option of `stage` (or of an earlier stage; of `stage` alone when
// `only_that_stage`) that differs between what OUT used and what this run asks, as
// "--seed 2 (OUT was built with 1)"; nullopt if none.
std::optional<std::string> changed_option(const std::map<std::string, std::string>& stored,
                                          const std::map<std::string, std::string>& asked, const std::string& up_to_stage, bool only_that_stage = false);

} // namespace skyscript::pipeline
