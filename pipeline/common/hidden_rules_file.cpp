#include "pipeline/common/hidden_rules_file.hpp"

#include "imagery/sha256_hex.hpp"
#include "pipeline/common/text_file.hpp"

namespace skyscript::pipeline {

tags::HiddenRules load_hidden_option(const std::string& option, tags::HiddenRules::Reading reading) {
    if (option.empty()) return tags::HiddenRules::builtin();
    if (option == "+") throw tags::HiddenRulesError("--hidden +: no file after `+` (+FILE adds FILE's rules to the default ones)");
    const bool add = option.front() == '+';
    const std::string path = add ? option.substr(1) : option;
    std::string why;
    const auto text = read_text_file(path, &why);
    if (!text) throw tags::HiddenRulesError(path + ": cannot open hidden-object rules (" + why + ")");
    auto rules = tags::HiddenRules::parse(*text, path, reading);
    if (!add) return rules;
    auto all = tags::HiddenRules::builtin();
    try {
        all.merge(rules);
    } catch (const tags::HiddenRulesError& e) { // the file whose rules tip it over, named (red-team round 36)
        throw tags::HiddenRulesError(path + ": " + e.what() + " (the built-in rules and this file's together; --hidden without + replaces the built-in ones)");
    }
    return all;
}

std::string hidden_rules_digest(const tags::HiddenRules& rules) {
    std::string text;
    for (const auto& rule : rules.rules()) text += rule.text + '\n'; // a rule's text has no newline
    return imagery::sha256_hex(text, 8);
}

} // namespace skyscript::pipeline
