#pragma once
// One vocabulary entry: a `key=value` (or `key=*`) that is visible from above.

#include <cstdint>
#include <string>
#include <string_view>

namespace skyscript::tags {

// feature: can be the subject of an image; attribute: only describes one;
// deny: never shown, even if another list adds it.
enum class Role : std::uint8_t { feature, attribute, deny };

std::string_view role_name(Role role) noexcept;

// The ground sample distance classes of the default vocabulary, in metres (docs/sampling.md).
inline constexpr double gsd_classes[] = {0.1, 0.2, 0.6, 1.0, 10.0};

struct TagEntry {
    std::string key;         // for deny entries a key pattern, a trailing `*` is a prefix match
    std::string value;       // "*" matches any value except "no"
    Role role = Role::feature;
    double max_gsd = 0.0;    // coarsest GSD (m) at which the tag is still visible
    std::uint32_t order = 0; // position in the list: earlier entries win ties
};

} // namespace skyscript::tags
