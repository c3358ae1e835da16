#include "pipeline/common/cli_args.hpp"


#include <cctype>
#include <charconv>
#include <cmath>

namespace skyscript::pipeline {

CliArgs::CliArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs) {
    auto find_long = [&](const std::string& n) -> const OptionSpec* {
        for (const auto& s : specs) if (s.name == n) return &s;
        return nullptr;
    };
    auto find_short = [&](char c) -> const OptionSpec* {
        for (const auto& s : specs) if (s.short_name == c) return &s;
        return nullptr;
    };
    bool only_positional = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (only_positional || a.size() < 2 || a[0] != '-' || (a[1] != '-' && !std::isalpha(static_cast<unsigned char>(a[1])))) {
            positional_.push_back(a);
            continue;
        }
        if (a == "--") {
            only_positional = true;
            continue;
        }
        const OptionSpec* spec;
        std::optional<std::string> inline_value;
        if (a[1] == '-') {
            auto eq = a.find('=');
            const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            if (eq != std::string::npos) inline_value = a.substr(eq + 1);
            spec = find_long(name);
            if (!spec) throw UsageError("unknown option --" + name);
        } else {
            if (a.size() != 2) throw UsageError("unknown option " + a);
            spec = find_short(a[1]);
            if (!spec) throw UsageError("unknown option " + a);
        }
        if (!spec->takes_value) {
            if (inline_value) throw UsageError("--" + spec->name + " takes no value");
            values_[spec->name].push_back("");
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= args.size()) throw UsageError("--" + spec->name + " needs a value (it is the last argument)");
            // `--seed --limit 5`: the value was forgotten, not meant to be "--limit" (a value that
            // starts with -- can still be given as --name=--value).
            const std::string& next = args[i + 1];
            if (next.size() > 2 && next.starts_with("--") && std::isalpha(static_cast<unsigned char>(next[2])))
                throw UsageError("--" + spec->name + " needs a value, got the option " + next);
            inline_value = args[++i];
        }
        values_[spec->name].push_back(*inline_value);
    }
}

std::optional<std::string> CliArgs::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second.back(); // the last one wins, as in most tools
}

const std::vector<std::string>& CliArgs::values(const std::string& name) const {
    static const std::vector<std::string> none;
    auto it = values_.find(name);
    return it == values_.end() ? none : it->second;
}

double parse_double(const std::string& text, const std::string& what) {
    double v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
        throw UsageError(what + ": `" + text + "` is not a number");
    if (!std::isfinite(v)) throw UsageError(what + ": `" + text + "` is not a finite number");
    return v;
}

} // namespace skyscript::pipeline
