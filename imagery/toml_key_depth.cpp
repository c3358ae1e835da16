#include "imagery/toml_key_depth.hpp"

#include <algorithm>

namespace skyscript::imagery {

std::optional<std::size_t> toml_key_too_deep(std::string_view text) {
    std::size_t line = 1;
    for (std::size_t start = 0; start < text.size(); ++line) {
        const auto end = std::min(text.find('\n', start), text.size());
        const auto l = text.substr(start, end - start);
        start = end + 1;
        // The key of `key = value`, or the name of a `[table]` / `[[array]]` header.
        std::size_t dots = 0;
        char quote = 0;
        for (const char c : l) {
            if (quote) {
                if (c == quote) quote = 0;
                continue;
            }
            if (c == '"' || c == '\'') quote = c;
            else if (c == '.') ++dots;
            else if (c == '=' || c == ']' || c == '#') break;
        }
        if (dots + 1 > toml_max_key_parts) return line;
    }
    return std::nullopt;
}

} // namespace skyscript::imagery
