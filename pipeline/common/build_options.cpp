#include "pipeline/common/build_options.hpp"

#include "imagery/toml_key_depth.hpp"
#include "pipeline/common/absolute_path.hpp"
#include "pipeline/common/region.hpp"
#include "pipeline/common/shard_spec.hpp"
#include "pipeline/common/stage_names.hpp"
#include "pipeline/common/text_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string_view>

namespace skyscript::pipeline {

namespace {

using T = OptionType;

// " >= 0 (0: all)", " from 0 to 1", " > 0 and <= 86400": a row's range, "" for none.
std::string range(const OptionRow& d) {
    auto text = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.10g", v);
        return std::string(buf);
    };
    std::string out;
    const bool has_min = std::isfinite(d.min), has_max = std::isfinite(d.max);
    if (has_min && has_max && !d.above_min) out = " from " + text(d.min) + " to " + text(d.max);
    else if (has_min && has_max) out = " > " + text(d.min) + " and <= " + text(d.max);
    else if (has_min) out = (d.above_min ? " > " : " >= ") + text(d.min);
    else if (has_max) out = " <= " + text(d.max);
    if (!d.range_note.empty()) out.append(" (").append(d.range_note).append(")");
    return out;
}

// "a whole number >= 0 (0: all)": what a numeric option accepts.
std::string expected(const OptionRow& d) {
    return (d.type == T::integer ? "a whole number" : "a number") + range(d) + (d.word.empty() ? "" : " or " + std::string(d.word));
}

// The values of text options that take one of a set: fixed here, or registered by the layer
// that owns the set (set_option_choices: --caption-style, --format).
std::map<std::string, std::vector<std::string>, std::less<>>& option_choices() {
    static std::map<std::string, std::vector<std::string>, std::less<>> choices{
        {"node-index", {"auto", "flex_mem", "sparse_file_array", "dense_file_array"}},
        {"read-sample", {"auto", "on", "off"}},
        {"source-policy", {"finest", "random", "all"}},
    };
    return choices;
}

// Text options with a fixed set of values, and the region options, checked as they are
// given: a value refused only by its stage would already be recorded in OUT's state DB,
// and that record would then be merged into the corrected rerun.
void check_text(const OptionRow& d, const std::string& value, const std::string& origin) {
    auto& choices = option_choices();
    if (const auto it = choices.find(d.name); it != choices.end()) {
        if (std::find(it->second.begin(), it->second.end(), value) != it->second.end()) return;
        std::string list;
        for (const auto& c : it->second) list += (list.empty() ? "" : ", ") + c;
        throw UsageError(origin + ": --" + std::string(d.name) + " expects one of " + list + ", got `" + value + "`");
    }
    try {
        if (d.name == "bbox" && !value.empty()) parse_bbox(value);
        // Where it was given (a config file's line): checked later, it was told as "--shard: --shard ...".
        if (d.name == "shard" && !value.empty() && value != "auto") parse_shard(value, "--shard");
        // A variable's name: a key given here would be recorded in OUT and printed in its card (not shown here either).
        if (d.name == "llm-key-env" && (value.empty() || std::isdigit(static_cast<unsigned char>(value[0])) ||
                                        value.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos))
            throw UsageError("--llm-key-env expects the name of the environment variable that holds the API key (letters, digits, _), "
                             "not the key itself");
        // The files stages read later (the sources after a whole extract): there, before any stage
        // runs. Any file option's pipe or device is refused too: reading it would block the run.
        if (const auto [prefix, file, suffix, named] = option_file(d, value); !file.empty() || !prefix.empty()) {
            if (file.empty()) // `+` alone
                throw UsageError("--" + std::string(d.name) + " +: no file after `+` (+FILE adds FILE's entries to the default ones)");
            const bool must_exist = d.name == "sources" || d.name == "tags" || d.name == "hidden" || d.name == "llm-prompt";
            const char* what = d.name == "tags" ? "tag list" : d.name == "hidden" ? "hidden-object rules" : d.name == "sources" ? "sources file" : "prompt template";
            std::error_code ec;
            if (!std::filesystem::exists(file, ec)) {
                if (must_exist) throw UsageError("--" + std::string(d.name) + " " + file + ": cannot open " + what + " (no such file)");
            } else if (const auto problem = file_problem(file); !problem.empty()) {
                throw UsageError("--" + std::string(d.name) + " " + file + ": " + problem);
            }
        }
        if (d.name == "polygon" && !value.empty()) load_polygon_region(value); // read twice (here and by extract): a small price for a refusal before OUT is touched
    } catch (const UsageError& e) {
        throw UsageError(origin + ": " + e.what());
    }
}

void check_value(const OptionRow& d, const std::string& value, const std::string& origin) {
    const std::string name(d.name);
    auto bad = [&](const std::string& what) { throw UsageError(origin + ": --" + name + " expects " + what + ", got `" + value + "`"); };
    double v = 0;
    if (!d.word.empty() && value == d.word) return;
    if (d.type == T::integer) {
        long long i = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), i);
        if (ec != std::errc{} || p != value.data() + value.size() || value.empty()) bad(expected(d));
        v = static_cast<double>(i);
    } else if (d.type == T::number) {
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc{} || p != value.data() + value.size() || value.empty() || !std::isfinite(v)) bad(expected(d));
    } else if (d.type == T::flag) {
        if (value != "true" && value != "false") bad("true or false");
        return;
    } else {
        check_text(d, value, origin);
        return;
    }
    if (v < d.min || (d.above_min && v == d.min) || v > d.max)
        throw UsageError(origin + ": --" + name + " must be" + range(d) + ", got `" + value + "`");
}

} // namespace

void set_option_choices(OptionName name, std::vector<std::string> values) { option_choices()[name.str()] = std::move(values); }

void BuildOptions::set(const std::string& name, const std::string& value, const std::string& origin) {
    const auto* d = find_option_row(name);
    if (!d) throw UsageError(origin + ": unknown option `" + name + "`");
    check_value(*d, value, origin);
    values_[std::string(d->name)] = absolute_option_value(*d, value);
    origins_[std::string(d->name)] = origin;
}

std::string BuildOptions::with_origin(const std::string& message) const {
    if (!message.starts_with("--")) return message;
    const auto end = message.find_first_of(" :", 2);
    const auto it = origins_.find(std::string_view(message).substr(2, end == std::string::npos ? std::string::npos : end - 2));
    if (it == origins_.end() || it->second == "command line") return message;
    return it->second + ": " + message;
}

bool adds_to_builtin(const OptionRow& row, std::string_view value) { return (row.name == "tags" || row.name == "hidden") && value.starts_with('+'); }

bool is_scores_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
}

OptionFile option_file(const OptionRow& row, const std::string& value) {
    OptionFile f;
    if (row.type != T::path || value.empty()) return f;
    std::error_code ec;
    if (row.name == "sources" && value == "open" && !std::filesystem::exists(value, ec)) return f; // the open presets
    f.file = value;
    if (adds_to_builtin(row, value)) f.prefix = "+", f.file = value.substr(1);
    if (row.name == "scores")
        if (const auto comma = value.rfind(','); comma != std::string::npos) {
            const auto name = value.substr(comma + 1);
            f.named = is_scores_name(name);
            if (f.named) f.file = value.substr(0, comma), f.suffix = value.substr(comma);
        }
    return f;
}

std::string absolute_option_value(const OptionRow& row, const std::string& value) {
    namespace fs = std::filesystem;
    const auto [prefix, file, given_suffix, named] = option_file(row, value);
    if (file.empty()) return value;
    const auto text = absolute_path(file);
    // A comma in the folders made absolute would be taken for the ,NAME: the name is given.
    auto suffix = given_suffix;
    // Only the user's own file name's: a NAME they gave wrongly ("clip.csv,a/b") is not
    // hidden behind one made up here ("clip.csv,a/b,b", then "cannot open clip.csv,a/b").
    if (row.name == "scores" && !named && text.find(',') != std::string::npos && value.find(',') == std::string::npos &&
        is_scores_name(fs::path(file).stem().string()))
        suffix = "," + fs::path(file).stem().string();
    return prefix + text + suffix;
}

namespace {

// Whether two words of an option's value say the same number (0.10 and 0.1, 07 and 7, 2.0%
// and 2%: the same unit after it), or are the same text.
bool same_word(std::string_view a, std::string_view b) {
    if (a == b) return true;
    const bool pa = a.ends_with('%'), pb = b.ends_with('%');
    if (pa != pb) return false;
    if (pa) a.remove_suffix(1), b.remove_suffix(1);
    // Whole numbers digit for digit, leading zeros aside: a double holds no 16-digit number
    // exactly, and an all-decimal digest (input-digest) would have matched its neighbours.
    const auto digits = [](std::string_view w) { return !w.empty() && w.find_first_not_of("0123456789") == std::string_view::npos; };
    // A sign the same on both sides (a seed of -9007199254740993 is not ...992's): digits after it.
    if (a.starts_with('-') && b.starts_with('-') && digits(a.substr(1)) && digits(b.substr(1))) a.remove_prefix(1), b.remove_prefix(1);
    if (digits(a) && digits(b)) {
        a.remove_prefix(std::min(a.find_first_not_of('0'), a.size() - 1));
        b.remove_prefix(std::min(b.find_first_not_of('0'), b.size() - 1));
        return a == b;
    }
    double x = 0, y = 0;
    const auto [ea, ca] = std::from_chars(a.data(), a.data() + a.size(), x);
    const auto [eb, cb] = std::from_chars(b.data(), b.data() + b.size(), y);
    return ca == std::errc{} && cb == std::errc{} && ea == a.data() + a.size() && eb == b.data() + b.size() && !a.empty() && x == y;
}

} // namespace

bool same_option_value(const OptionRow& row, const std::string& recorded, const std::string& asked) {
    if (recorded == asked) return true;
    if (row.type == T::path) return absolute_option_value(row, recorded) == asked;
    // Word by word between commas: a number as a number (0.10 is 0.1; --min-visible-px 64,16.0
    // is 64,16, --val-size 2.0% is 2%: refused before as another dataset, red-team round 35).
    std::string_view r(recorded), q(asked);
    for (;;) {
        const auto cr = r.find(','), cq = q.find(',');
        if (!same_word(r.substr(0, cr), q.substr(0, cq))) return false;
        if (cr == std::string_view::npos || cq == std::string_view::npos) return cr == cq;
        r.remove_prefix(cr + 1), q.remove_prefix(cq + 1);
    }
}

void BuildOptions::merge_cli(const CliArgs& cli) {
    for (const auto& d : option_table) {
        const std::string name(d.name);
        if (d.type == T::flag) {
            if (cli.flag(name)) values_[name] = "true";
        } else if (d.repeatable && !cli.values(name).empty()) {
            std::string joined;
            for (const auto& v : cli.values(name)) joined += (joined.empty() ? "" : "\n") + v;
            set(name, joined, "command line");
        } else if (auto v = cli.value(name)) {
            set(name, *v, "command line");
        }
    }
    check_exclusive();
}

void BuildOptions::check_exclusive() const {
    if (has("bbox") && has("polygon") && !text("bbox").empty() && !text("polygon").empty())
        throw UsageError("--bbox and --polygon exclude each other");
}

void BuildOptions::merge_toml_file(const std::string& path) {
    if (const auto problem = file_problem(path); !problem.empty()) throw UsageError("--config " + path + ": " + problem);
    std::string why;
    const auto text = read_text_file(path, &why);
    if (!text) throw UsageError("--config " + path + ": " + why);
    if (const auto line = imagery::toml_key_too_deep(*text))
        throw UsageError(path + ":" + std::to_string(*line) + ": a key of more than " + std::to_string(imagery::toml_max_key_parts) + " dotted parts");
    toml::table root;
    try {
        root = toml::parse(*text, path);
    } catch (const toml::parse_error& e) {
        throw UsageError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    std::map<std::string_view, std::pair<std::string, int>> given; // option -> the key that gave it, and its line
    for (const auto& [key, node] : root) {
        const std::string origin = path + ":" + std::to_string(node.source().begin.line);
        const auto* d = find_option_row(key.str());
        // Not `input`, `input-bytes` or `input-digest` (no flag's: the positional INPUT sets them):
        // taken from a config file, the card named a file the build never read (red-team round 41).
        if (!d || d->name == "config" || d->help.empty()) throw UsageError(origin + ": unknown option `" + std::string(key.str()) + "`");
        // max_px and max-px are one option but two TOML keys: the second was dropped unchecked.
        if (const auto [at, fresh] = given.try_emplace(d->name, std::string(key.str()), node.source().begin.line); !fresh)
            throw UsageError(origin + ": `" + std::string(key.str()) + "` is given twice (as `" + at->second.first + "` on line " +
                             std::to_string(at->second.second) + ")");
        // The folder is chosen before the file is read (it holds the build's lock and record).
        if (d->name == "output") throw UsageError(origin + ": `output` is not read from a config file; give -o OUT on the command line");
        if (values_.count(d->name)) continue; // a flag given on the command line wins
        std::string text;
        if (auto s = node.value_exact<std::string>()) {
            // A NUL (\u0000) or another control character in a value no command line can give:
            // the file read was the name before the NUL, the record held it all, and messages
            // quoting it were cut there (red-team round 35).
            if (std::any_of(s->begin(), s->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
                throw UsageError(origin + ": `" + std::string(key.str()) + "` holds a control character (a NUL, a line break, ...)");
            text = *s;
        }
        else if (auto i = node.value_exact<std::int64_t>()) text = std::to_string(*i);
        else if (auto f = node.value_exact<double>()) {
            char buf[64]; // the shortest text that reads back as the same double (nan and inf too, refused by set)
            text.assign(buf, std::to_chars(buf, buf + sizeof buf, *f).ptr);
        } else if (auto b = node.value_exact<bool>()) text = *b ? "true" : "false";
        else throw UsageError(origin + ": `" + std::string(key.str()) + "` must be a string, number or boolean");
        set(std::string(d->name), text, origin);
    }
    check_exclusive();
}

void BuildOptions::merge_stored(const std::map<std::string, std::string>& stored, const std::string& origin) {
    for (const auto& [k, v] : stored) {
        const auto* d = find_option_row(k);
        if (values_.count(k) || !d) continue;
        // A number as the check reads it (quality `1e308` had been read as 1 by std::stoll, and
        // a rerun re-encoded images at it), named as the DB's, not as a flag never typed. Paths
        // and words are judged where they are used (a sources file gone says so there).
        // Read, not held to today's ranges: a build made before a range was set resumes as it did.
        // A flag unset is recorded empty.
        if (!origin.empty() && (d->type == T::integer || d->type == T::number || (d->type == T::flag && !v.empty()))) try {
            auto any_range = *d;
            any_range.min = -std::numeric_limits<double>::infinity(), any_range.max = std::numeric_limits<double>::infinity(), any_range.above_min = false;
            check_value(any_range, v, origin);
        } catch (const UsageError& e) {
            throw std::runtime_error(std::string(e.what()) + " (recorded there by an earlier run: the state DB was edited?)");
        }
        values_[k] = v;
        // A stage's own check of it (a range, --min-px against --max-px) names where it came from.
        if (!origin.empty()) origins_[k] = origin + " (recorded there)";
    }
}

bool BuildOptions::has(OptionName name) const { return values_.count(find_option_row(name.view())->name) > 0; }

std::string BuildOptions::text(OptionName name) const {
    return value_of(*find_option_row(name.view())); // never null: OptionName is checked at compile time
}

std::vector<std::string> BuildOptions::values(OptionName name) const {
    const auto text = this->text(name);
    std::vector<std::string> out;
    for (std::size_t start = 0, end; start < text.size(); start = end + 1) {
        end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) out.push_back(text.substr(start, end - start));
    }
    return out;
}

std::string BuildOptions::value_of(const OptionRow& row) const {
    if (auto it = values_.find(row.name); it != values_.end()) return it->second;
    return std::string(row.default_value);
}

// As check_value reads it: std::stoll took `5x` for 5 and threw a bare "stoll" on `abc`.
long long BuildOptions::integer(OptionName name) const {
    const auto value = text(name);
    long long v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || p != value.data() + value.size() || value.empty())
        throw UsageError("--" + std::string(name.view()) + " expects a whole number, got `" + value + "`");
    return v;
}
// Read as check_value read it: std::stod threw out_of_range for a value such as 1e-320, which
// the check had let through ("error: stod", red-team round 41).
double BuildOptions::number(OptionName name) const {
    const auto value = text(name);
    double v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || p != value.data() + value.size() || value.empty()) throw UsageError("--" + std::string(name.view()) + " expects a number, got `" + value + "`");
    return v;
}
bool BuildOptions::flag(OptionName name) const { return text(name) == "true"; }

std::map<std::string, std::string> BuildOptions::recorded() const {
    std::map<std::string, std::string> out;
    for (const auto& row : option_table)
        if (!row.stage.empty()) out[std::string(row.name)] = value_of(row);
    return out;
}

std::vector<OptionSpec> build_option_specs() {
    std::vector<OptionSpec> specs;
    for (const auto& d : option_table)
        if (!d.help.empty()) specs.push_back({std::string(d.name), d.type != T::flag, d.short_name});
    specs.push_back({"help", false, 'h'});
    return specs;
}

std::string build_options_help(bool with_output) {
    std::string out, section;
    for (const auto& d : option_table) {
        if (d.help.empty() || (!with_output && d.name == "output")) continue;
        // Run-only options are listed with the stage they steer (the one before them).
        const std::string s = !d.stage.empty() ? std::string(d.stage) : section.empty() ? "run" : section;
        if (s != section) {
            out += '\n'; // appended piece by piece: `"\n" + std::string(...)` trips GCC 12's false -Wrestrict
            out += static_cast<char>(std::toupper(s[0]));
            out.append(s, 1).append(" options:\n");
            section = s;
        }
        // snprintf, not `"..." + std::string`: the latter trips GCC 12's false -Wrestrict.
        const char* arg = d.type == T::flag ? "" : d.type == T::path ? " FILE" : d.type == T::text ? " S" : " N";
        char flag[96], dflt[96] = "", line[384];
        const int name_len = static_cast<int>(d.name.size());
        if (d.short_name) std::snprintf(flag, sizeof flag, "-%c, --%.*s%s", d.short_name, name_len, d.name.data(), arg);
        else std::snprintf(flag, sizeof flag, "    --%.*s%s", name_len, d.name.data(), arg);
        if (!d.default_value.empty() && d.type != T::flag)
            std::snprintf(dflt, sizeof dflt, " (default %.*s)", static_cast<int>(d.default_value.size()), d.default_value.data());
        std::snprintf(line, sizeof line, "  %-24s %.*s%s\n", flag, static_cast<int>(d.help.size()), d.help.data(), dflt);
        out += line;
    }
    return out;
}

std::optional<std::string> changed_option(const std::map<std::string, std::string>& stored,
                                          const std::map<std::string, std::string>& asked, const std::string& up_to_stage, bool only_that_stage) {
    const int limit = stage_rank(up_to_stage);
    for (const auto& d : option_table) {
        if (d.stage.empty() || stage_rank(d.stage) > limit || (only_that_stage && d.stage != up_to_stage)) continue;
        const std::string name(d.name);
        const auto s = stored.find(name);
        const auto a = asked.find(name);
        if (s == stored.end() || a == asked.end()) continue;
        if (!same_option_value(d, s->second, a->second))
            return "--" + name + " " + (a->second.empty() ? "\"\"" : a->second) + " (OUT was built with " +
                   (s->second.empty() ? std::string("none") : s->second) + ")";
    }
    return std::nullopt;
}

} // namespace skyscript::pipeline
