#pragma once
// Whether a language model's polished caption says only what the image's tags say, before it
// is kept (docs/captions.md, "Polished captions"). An answer passes when
//   - it names the focus object's feature: the focus tag's value ("parking" for
//     amenity=parking; the key for a value `yes`) or its English name ("parking lot"),
//     at the start of a word, case and `_` ignored;
//   - every number in it (digits, "16,000" read as 16000; the words two to twelve) is a
//     number of the tags, the rule caption or, when the prompt gave it, the GSD;
//   - every feature word in it (feature_words.txt, singular or plural) is a word of the
//     tags' keys and values, their English names or the rule caption;
//   - its length is within [min_answer_chars, the rule caption's length x 3 + 100];
//   - it does not repeat a label of the prompt ("Caption:", "Tags of the main object:"): an
//     answer that echoes the prompt holds all its words and passes the rest;
//   - it does not start with = + - or @, as a spreadsheet formula does (a CSV cell);
//   - it is English: no letter of another script than Latin that the caption and tags lack,
//     and one of English's commonest words (a, the, of, with, ...) at least.
// Otherwise the check gives the reason, which the stage sends back to the model once.

#include "captions/natural_captioner.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

using TagPairs = std::vector<std::pair<std::string, std::string>>;

// What one answer is checked against.
struct CheckFacts {
    std::string focus_tag;               // key=value: the feature it must name
    TagPairs focus;                      // the focus object's tags
    std::vector<TagPairs> surroundings;  // the tags of the objects the caption names around it
    std::string caption;                 // the rule caption the answer rewrites
    std::string gsd;                     // "" unless the prompt gave the GSD
};

inline constexpr std::size_t min_answer_chars = 10;

class AnswerCheck {
public:
    // `tag_names`: lines `key=value<TAB>name` (tags::builtin_tag_names()); `prompt_labels`:
    // PromptTemplate::labels() of the prompt the answers reply to.
    explicit AnswerCheck(std::string_view tag_names, std::vector<std::string> prompt_labels = {});

    // The reason the answer fails, or nullopt when it passes.
    std::optional<std::string> check(std::string_view answer, const CheckFacts& facts) const;

    // The answer as it is kept: surrounding whitespace and one pair of enclosing quotes
    // removed, every run of whitespace (newlines too) made one space.
    static std::string clean(std::string_view answer);

private:
    std::string name_of(const std::string& key, const std::string& value) const;
    captions::NameTable names_; // key=value (and key=*) -> English name
    std::unordered_set<std::string> feature_words_;
    std::vector<std::string> prompt_labels_; // lowercase
};

} // namespace skyscript::pipeline
