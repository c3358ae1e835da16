#include "osm/tag_list_guard.hpp"


#include <osmium/osm/object.hpp>

#include <algorithm>
#include <cstring>

namespace skyscript::osm {

namespace {

// The strings of a list are the bytes after its header, each ended by a NUL (the builder
// writes the last one, so a list always ends with one). Blanked: NULs, with one '?' second
// when the byte count is odd, so the strings still pair up: ("", "?"), ("", ""), ...
bool guard(osmium::TagList& tags) {
    auto* begin = reinterpret_cast<char*>(tags.data()) + sizeof(osmium::TagList);
    auto* end = reinterpret_cast<char*>(tags.data()) + tags.byte_size();
    if (end <= begin) return false;
    const auto strings = std::count(begin, end, '\0');
    if (end[-1] == '\0' && strings % 2 == 0) return false;
    std::memset(begin, 0, static_cast<std::size_t>(end - begin));
    if ((end - begin) % 2 == 1 && end - begin >= 3) begin[1] = '?';
    return true;
}

} // namespace

std::uint64_t guard_tag_lists(osmium::memory::Buffer& buffer) {
    std::uint64_t blanked = 0;
    for (auto& object : buffer.select<osmium::OSMObject>())
        if (!object.tags().empty()) blanked += guard(const_cast<osmium::TagList&>(object.tags())); // the buffer is ours to change
    return blanked;
}

} // namespace skyscript::osm
