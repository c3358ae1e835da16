#pragma once
// A failure reason as a class people can count: the fetch stage's messages carry the tile's
// URL and measured shares ("only 12.2% of the tile has imagery", "tile https://.../12/3/4.png:
// HTTP 503 ..."), so grouping by the raw message gives one row per job. Every URL becomes
// "URL" and every decimal number "N"; integers stay (HTTP 404 and 503 are different reasons).
// The fetch stage's summary and the report count failures by it.

#include <string>
#include <string_view>

namespace skyscript::pipeline {

std::string failure_class(std::string_view reason);

} // namespace skyscript::pipeline
