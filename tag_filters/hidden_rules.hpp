#pragma once
// Which objects nobody can see from above (a road in a tunnel, a room, an underground
// car park), whatever their feature tags: the rules of hidden.tsv, as data.
//
//   condition [condition ...]   kinds        e.g.   layer<0  highway=*   line
//
// condition: key=value, key=* (any value but "no"), key<N, key>N (numeric value);
// kinds: any, or a comma list of point, line, area. A rule hides an object of one of its
// kinds that meets all its conditions. Errors name the source and line.

#include "tag_filters/string_table.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::tags {

class HiddenRulesError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The catalog's three kinds, as bits of a rule's kind set.
enum class ObjectKind : std::uint8_t { point = 1, line = 2, area = 4 };

class HiddenRules {
public:
    struct Condition {
        enum class Test : std::uint8_t { equals, present, less, greater };
        std::string key;
        Test test = Test::present;
        std::string value; // equals
        double number = 0; // less, greater
        bool met_by(std::string_view value) const noexcept;
    };
    struct Rule {
        std::vector<Condition> conditions;
        std::uint8_t kinds = 0; // ObjectKind bits
        std::string text;       // the line as written, for messages
    };

    // At most 64 conditions in all (one bit each while an object's tags are read).
    static constexpr std::size_t max_conditions = 64;

    // How strictly rule text is read. `earlier` is how versions before 2026-12 read it (a
    // non-finite threshold, a NUL, a rule given twice all taken): only to compare a file with
    // the digest a catalog extracted then recorded, so such a build still resumes.
    enum class Reading { strict, earlier };
    // Parses rule text; `source` names it in error messages ("hidden.tsv").
    static HiddenRules parse(std::string_view text, const std::string& source, Reading reading = Reading::strict);
    // The built-in rules (tag_filters/hidden.tsv).
    static HiddenRules builtin();

    // Adds `other`'s rules after ours.
    void merge(const HiddenRules& other);

    const std::vector<Rule>& rules() const noexcept { return rules_; }

    // The first rule that hides an object of `kind` with these tags, or nullptr. `tags` is
    // a range of items with key() and value() (osmium::TagList, for one): one hash lookup
    // per tag.
    template <typename Tags>
    const Rule* find(const Tags& tags, ObjectKind kind) const {
        if (rules_.empty()) return nullptr;
        std::uint64_t met = 0;
        for (const auto& tag : tags) met |= conditions_met(tag.key(), tag.value());
        return met ? first_rule_met(met, kind) : nullptr;
    }

private:
    struct ConditionRef {
        std::uint32_t rule, condition, bit;
    };

    void index();
    std::uint64_t conditions_met(std::string_view key, std::string_view value) const noexcept;
    const Rule* first_rule_met(std::uint64_t met, ObjectKind kind) const noexcept;

    std::vector<Rule> rules_;
    std::vector<std::uint64_t> rule_bits_; // the bits of each rule's conditions
    StringTable<std::vector<ConditionRef>> by_key_;
};

} // namespace skyscript::tags
