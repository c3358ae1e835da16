#include "pipeline/polish/prompt_template.hpp"

#include "imagery/sha256_hex.hpp"
#include "imagery/small_file.hpp"
#include "tag_filters/utf8_text.hpp"

#include <algorithm>
#include <stdexcept>

namespace skyscript::embedded {
std::string_view default_prompt_txt();
} // namespace skyscript::embedded

namespace skyscript::pipeline {

PromptTemplate PromptTemplate::builtin() { return parse(embedded::default_prompt_txt(), "the built-in prompt"); }

PromptTemplate PromptTemplate::from_file(const std::string& path) {
    // Read as the tag lists are, with a prompt's own limit (red-team round 33: a UTF-8 BOM was
    // sent to the model as the prompt's first character, and a 10 MB template with every request).
    constexpr std::uintmax_t max_bytes = 64 << 10;
    const auto file = imagery::read_small_file(path, max_bytes);
    if (file.too_big)
        throw std::runtime_error(path + ": " + std::to_string(file.size >> 10) + " KB, more than a prompt template's 64 KB (it is sent with every request)");
    if (!file.bytes) throw std::runtime_error(path + ": cannot read the prompt template (" + file.why + ")");
    return parse(tags::without_bom(*file.bytes), path);
}

PromptTemplate PromptTemplate::parse(std::string_view text, const std::string& where) {
    PromptTemplate t;
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) throw std::runtime_error(where + ": the prompt template is empty");
    // A NUL reached the model's request (JSON \u0000) and ended the text of every C string on the way.
    if (text.find('\0') != std::string_view::npos) throw std::runtime_error(where + ": the prompt template holds a NUL byte");
    if (!tags::is_valid_utf8(text)) throw std::runtime_error(where + ": the prompt template is not valid UTF-8 (save it as UTF-8)");
    std::string literal;
    bool has_caption = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            literal.push_back(c);
            ++i;
            continue;
        }
        if (c == '}') throw std::runtime_error(where + ": a `}` that closes no field (write `}}` for a brace)");
        if (c != '{') {
            literal.push_back(c);
            continue;
        }
        const auto end = text.find('}', i);
        if (end == std::string_view::npos) throw std::runtime_error(where + ": a `{` that is never closed (write `{{` for a brace)");
        const auto name = text.substr(i + 1, end - i - 1);
        Piece piece;
        if (name == "caption") piece = Piece::caption, has_caption = true;
        else if (name == "tags") piece = Piece::tags;
        else if (name == "surroundings") piece = Piece::surroundings;
        else if (name == "gsd") piece = Piece::gsd, t.uses_gsd_ = true;
        else throw std::runtime_error(where + ": unknown field {" + std::string(name) + "} (expected {caption}, {tags}, {surroundings} or {gsd})");
        if (!literal.empty()) t.pieces_.emplace_back(Piece::text, std::move(literal));
        literal.clear();
        t.pieces_.emplace_back(piece, "");
        i = end;
    }
    if (!literal.empty()) t.pieces_.emplace_back(Piece::text, std::move(literal));
    if (!has_caption) throw std::runtime_error(where + ": the prompt template has no {caption} field");
    t.hash_ = imagery::sha256_hex(text, 8);
    return t;
}

std::vector<std::string> PromptTemplate::labels() const {
    std::vector<std::string> out;
    for (std::size_t i = 1; i < pieces_.size(); ++i) {
        if (pieces_[i].first == Piece::text || pieces_[i - 1].first != Piece::text) continue;
        const auto& before = pieces_[i - 1].second;
        auto label = before.substr(before.find_last_of('\n') == std::string::npos ? 0 : before.find_last_of('\n') + 1);
        label.erase(0, label.find_first_not_of(" \t\r"));
        label.erase(label.find_last_not_of(" \t\r") + 1);
        if (label.size() > 1 && label.back() == ':' && std::find(out.begin(), out.end(), label) == out.end()) out.push_back(label);
    }
    return out;
}

std::string PromptTemplate::render(const PromptFields& f) const {
    std::string out;
    for (const auto& [piece, text] : pieces_) {
        switch (piece) {
        case Piece::text: out += text; break;
        case Piece::caption: out += f.caption; break;
        case Piece::tags: out += f.tags; break;
        case Piece::surroundings: out += f.surroundings.empty() ? "none" : f.surroundings; break;
        case Piece::gsd: out += f.gsd; break;
        }
    }
    return out;
}

} // namespace skyscript::pipeline
