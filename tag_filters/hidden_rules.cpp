#include "tag_filters/hidden_rules.hpp"

#include "tag_filters/line_fields.hpp"
#include "tag_filters/utf8_text.hpp"

#include <charconv>
#include <cmath>

namespace skyscript::embedded {
std::string_view hidden_tsv();
}

namespace skyscript::tags {

namespace {

[[noreturn]] void fail(const std::string& source, std::size_t line_no, const std::string& what) {
    throw HiddenRulesError(source + ":" + std::to_string(line_no) + ": " + what);
}

bool parse_number(std::string_view s, double& out) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && ptr == s.data() + s.size() && !s.empty();
}

std::uint8_t parse_kinds(std::string_view field, const std::string& source, std::size_t line_no) {
    if (field == "any") return 7;
    std::uint8_t kinds = 0;
    while (!field.empty()) {
        const auto comma = field.find(',');
        const auto name = field.substr(0, comma);
        field = comma == std::string_view::npos ? std::string_view{} : field.substr(comma + 1);
        if (name == "point") kinds |= static_cast<std::uint8_t>(ObjectKind::point);
        else if (name == "line") kinds |= static_cast<std::uint8_t>(ObjectKind::line);
        else if (name == "area") kinds |= static_cast<std::uint8_t>(ObjectKind::area);
        else fail(source, line_no, "kinds must be `any` or a comma list of point, line, area; got `" + std::string(name) + "`");
    }
    return kinds;
}

HiddenRules::Condition parse_condition(std::string_view text, const std::string& source, std::size_t line_no, HiddenRules::Reading reading) {
    using Test = HiddenRules::Condition::Test;
    HiddenRules::Condition c;
    const auto op = text.find_first_of("=<>");
    if (op == std::string_view::npos || op == 0 || op + 1 == text.size())
        fail(source, line_no, "expected a condition key=value, key=*, key<N or key>N, got `" + std::string(text) + "`");
    c.key = std::string(text.substr(0, op));
    const auto rest = text.substr(op + 1);
    if (text[op] == '=') {
        c.test = rest == "*" ? Test::present : Test::equals;
        c.value = std::string(rest);
    } else {
        c.test = text[op] == '<' ? Test::less : Test::greater;
        // A finite threshold: `layer<nan` was taken and met by no value, a rule that silently
        // did nothing (red-team round 33); `layer<inf` one met by every number.
        if (!parse_number(rest, c.number) || (reading == HiddenRules::Reading::strict && !std::isfinite(c.number))) {
            std::string what = "`";
            what.append(text).append("`: expected a number after ").push_back(text[op]);
            fail(source, line_no, what);
        }
    }
    return c;
}

} // namespace

bool HiddenRules::Condition::met_by(std::string_view v) const noexcept {
    switch (test) {
        case Test::present: return !v.empty() && v != "no";
        case Test::equals: return v == value;
        case Test::less:
        case Test::greater: {
            double x = 0;
            if (!parse_number(v, x)) return false; // "-1;0", "ground": not a number, no opinion
            return test == Test::less ? x < number : x > number;
        }
    }
    return false;
}

HiddenRules HiddenRules::parse(std::string_view text, const std::string& source, Reading reading) {
    const bool strict = reading == Reading::strict;
    HiddenRules rules;
    for_each_record(text, [&](std::size_t line_no, const std::vector<std::string_view>& fields) {
        if (fields.size() < 2) fail(source, line_no, "expected `condition [condition...] kinds`, got one field");
        // A NUL ends the text for every C string a rule reaches: the message quoting it too.
        for (const auto field : fields)
            if (strict && field.find('\0') != std::string_view::npos) fail(source, line_no, "the rule holds a NUL byte");
        Rule rule;
        rule.kinds = parse_kinds(fields.back(), source, line_no);
        for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
            if (!is_valid_utf8(fields[i])) fail(source, line_no, "the condition is not valid UTF-8 (save the rules as UTF-8)");
            rule.conditions.push_back(parse_condition(fields[i], source, line_no, reading));
            if (i) rule.text += ' ';
            rule.text += fields[i];
        }
        rule.text += ' ';
        rule.text += fields.back();
        // As a tag list's repeated entry: a second copy changes nothing but the rules' digest
        // (a rerun then refused for rules that mean the same).
        for (const auto& earlier : rules.rules_)
            if (strict && earlier.text == rule.text) fail(source, line_no, "the rule `" + rule.text + "` is given twice");
        rules.rules_.push_back(std::move(rule));
        std::size_t total = 0;
        for (const auto& r : rules.rules_) total += r.conditions.size();
        if (total > max_conditions) fail(source, line_no, "more than " + std::to_string(max_conditions) + " conditions in all");
    });
    rules.index();
    return rules;
}

HiddenRules HiddenRules::builtin() { return parse(skyscript::embedded::hidden_tsv(), "hidden.tsv"); }

void HiddenRules::merge(const HiddenRules& other) {
    std::size_t total = 0;
    for (const auto& r : rules_) total += r.conditions.size();
    for (const auto& r : other.rules_) total += r.conditions.size();
    if (total > max_conditions) throw HiddenRulesError("more than " + std::to_string(max_conditions) + " hidden-rule conditions in all");
    rules_.insert(rules_.end(), other.rules_.begin(), other.rules_.end());
    index();
}

void HiddenRules::index() {
    by_key_ = {};
    rule_bits_.assign(rules_.size(), 0);
    std::uint32_t bit = 0;
    for (std::uint32_t r = 0; r < rules_.size(); ++r) {
        for (std::uint32_t c = 0; c < rules_[r].conditions.size(); ++c, ++bit) {
            by_key_.insert(rules_[r].conditions[c].key).push_back({r, c, bit});
            rule_bits_[r] |= std::uint64_t{1} << bit;
        }
    }
}

std::uint64_t HiddenRules::conditions_met(std::string_view key, std::string_view value) const noexcept {
    const auto* refs = by_key_.find(key);
    if (!refs) return 0;
    std::uint64_t met = 0;
    for (const auto& ref : *refs)
        if (rules_[ref.rule].conditions[ref.condition].met_by(value)) met |= std::uint64_t{1} << ref.bit;
    return met;
}

const HiddenRules::Rule* HiddenRules::first_rule_met(std::uint64_t met, ObjectKind kind) const noexcept {
    for (std::size_t r = 0; r < rules_.size(); ++r)
        if ((rules_[r].kinds & static_cast<std::uint8_t>(kind)) && (met & rule_bits_[r]) == rule_bits_[r]) return &rules_[r];
    return nullptr;
}

} // namespace skyscript::tags
