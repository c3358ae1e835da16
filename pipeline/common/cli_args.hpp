#pragma once
// Command-line parsing shared by the subcommands: `--name value`, `--name=value`,
// short aliases, repeatable options, flags. Unknown options are errors.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace skyscript::pipeline {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;       // without dashes: "output"
    bool takes_value = true;
    char short_name = 0;    // 'o' for -o
};

class CliArgs {
public:
    CliArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

    bool flag(const std::string& name) const { return values_.count(name) > 0; }
    std::optional<std::string> value(const std::string& name) const;
    const std::vector<std::string>& values(const std::string& name) const;
    const std::vector<std::string>& positional() const noexcept { return positional_; }

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positional_;
};

// A finite number, or UsageError naming `what` (the option): NaN and infinity are refused.
double parse_double(const std::string& text, const std::string& what);

} // namespace skyscript::pipeline
