#pragma once
// A local file's size and modification time, "SIZE:MTIME_NS" ("missing" when it is not
// there): what a rebuild compares to know the pixels of a file it reads have not changed.
// A raster read with other local files (a VRT's members, overviews, sidecars) adds
// " +N files HEX": how many, and a digest of their names and stamps.

#include <string>
#include <vector>

namespace skyscript::imagery {

std::string local_file_stamp(const std::string& path);

// `main`'s stamp ("" when there is no main file, e.g. an inline VRT) and, when `files`
// holds others, " +N files HEX". With no other file it is local_file_stamp(main), so a
// single file's stamp, stored in tile keys and state DBs, stays what it was.
std::string files_stamp(const std::string& main, const std::vector<std::string>& files);

// The change from stamp `before` to `now` in words ("1234 bytes, modified at T ns ->
// missing"; "one of the 3 other files GDAL reads for it changed").
std::string describe_stamp_change(const std::string& before, const std::string& now);

} // namespace skyscript::imagery
