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

// Whether stamp `now` says the files are as `before` said: equal, or `before` was made by
// a version that stamped a raster's own file only (no " +N files"; "" for an inline VRT)
// and that file is as it was then: that version could not see the others, and its stamp is
// taken for what it saw.
bool stamp_unchanged(const std::string& before, const std::string& now);

// The change from stamp `before` to `now` in words ("1234 bytes, modified at T ns ->
// missing"; "GDAL read 2 other files for it ..., now 3"; "one of the 3 other files ...").
std::string describe_stamp_change(const std::string& before, const std::string& now);

} // namespace skyscript::imagery
