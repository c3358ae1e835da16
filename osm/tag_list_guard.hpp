#pragma once
// A tag whose key or value holds a NUL byte (PBF strings are counted bytes, so a file may
// carry one) is stored by libosmium's decoder as is, between its NUL terminators: the
// list then holds more strings than its tags, and a list with an odd number of them makes
// every loop over its tags (ours, and libosmium's own in the area assembler) step past its
// end and read until it crashes. The extract and `tags --stats` pass every buffer through
// guard_tag_lists() before anything reads a tag.

#include <osmium/memory/buffer.hpp>

#include <cstdint>

namespace skyscript::osm {

// Makes every object's tag list in `buffer` safe to loop over, in place: a list with an
// odd number of strings cannot be split back into its tags (which NUL was a value's is
// unknown), so it is blanked to tags with empty keys, which match nothing; a list with an
// even number keeps its strings (at worst a NUL splits a value in two: a tag that matches
// nothing). Returns how many lists were blanked.
std::uint64_t guard_tag_lists(osmium::memory::Buffer& buffer);

} // namespace skyscript::osm
