#pragma once
// A local file's size and modification time, "SIZE:MTIME_NS" ("missing" when it is not
// there): what a rebuild compares to know the pixels of a file it reads have not changed.

#include <string>

namespace skyscript::imagery {

std::string local_file_stamp(const std::string& path);

} // namespace skyscript::imagery
