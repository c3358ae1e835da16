#pragma once
// A path given by the user, made absolute the way the kernel reads it, for OUT to record.

#include <string>

namespace skyscript::pipeline {

// `path` absolute, `.` and `..` folded. A `..` after a link goes up from where the link
// points, as the kernel reads it: such a path is resolved through its links (`lnk/../x` is
// not `./x` when lnk leads elsewhere; folding it on the text read another file). A `..` after
// a name that is no folder is kept as given (the kernel refuses such a path; folded, it named
// another file). One without `..` keeps its links, so a recorded path stays the one the user gave.
std::string absolute_path(const std::string& path);

} // namespace skyscript::pipeline
