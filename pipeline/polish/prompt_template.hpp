#pragma once
// The prompt of the polish stage: a text with fields in braces, filled for each distinct input.
//
//   {caption}       the rule caption being polished (title or title_multi_objects)
//   {tags}          the focus object's tags, "key=value, key=value"
//   {surroundings}  the tags of the objects the caption names around it, one object after
//                   another separated by "; " ("none" for `title`, which names none)
//   {gsd}           the image's ground sample distance in metres
//
// `{{` and `}}` are literal braces. A field the template leaves out is not part of the input:
// the built-in template (default_prompt.txt) leaves out {gsd}, so that the same object seen
// by two sources is one request, not two.

#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

struct PromptFields {
    std::string caption, tags, surroundings, gsd;
};

class PromptTemplate {
public:
    // The shipped template (pipeline/polish/default_prompt.txt).
    static PromptTemplate builtin();
    // A user's template; throws std::runtime_error "FILE: why" (unreadable, empty, an unknown
    // {field}, an unclosed brace, no {caption}).
    static PromptTemplate from_file(const std::string& path);
    // Same contract, for a template given as text; `where` names it in errors.
    static PromptTemplate parse(std::string_view text, const std::string& where);

    std::string render(const PromptFields& fields) const;
    bool uses_gsd() const noexcept { return uses_gsd_; }
    // The labels its fields follow on their lines ("Caption:", "Tags of the main object:"):
    // the text before a field from the line's start, trimmed, when it ends with a colon.
    std::vector<std::string> labels() const;
    // sha256 of the template text, first 16 hex digits: part of every request key and of each caption's record.
    const std::string& hash() const noexcept { return hash_; }

private:
    enum class Piece { text, caption, tags, surroundings, gsd };
    std::vector<std::pair<Piece, std::string>> pieces_;
    std::string hash_;
    bool uses_gsd_ = false;
};

} // namespace skyscript::pipeline
