#pragma once
// TOML keys nested too deep to parse: toml++ recurses once a dotted part (`a.a.a...= 1`, or a
// `[a.a...]` header), and a file of one 100 KB key overflowed the stack (SIGSEGV) where its
// arrays and inline tables stop at 256 levels. Both TOML files a user gives (--config, the
// sources file) are looked at first.

#include <cstddef>
#include <optional>
#include <string_view>

namespace skyscript::imagery {

// Deeper than any key of ours and far from the stack's limit.
inline constexpr std::size_t toml_max_key_parts = 64;

// The line (from 1) of the first key or table header of `text` with more than
// toml_max_key_parts dotted parts (dots in quoted parts not counted); nullopt when none.
std::optional<std::size_t> toml_key_too_deep(std::string_view text);

} // namespace skyscript::imagery
