#pragma once
// A tile's acquisition time as its source tells it: milliseconds since 1970-01-01 UTC,
// negative before 1970 (archives of aerial photographs reach back to the 1930s), and 0 where
// the source tells no time (the image's year is then its source's `year`).

#include <ctime>
#include <optional>

namespace skyscript::imagery {

constexpr bool acquisition_time_known(long long time_ms) noexcept { return time_ms != 0; }

// A time a source told: 1970-01-01T00:00:00.000Z itself is recorded a millisecond later, since
// 0 says no time (an image taken at the epoch's first instant had been year 0 in its stem).
constexpr long long known_acquisition_time(long long time_ms) noexcept { return time_ms == 0 ? 1 : time_ms; }

// The UTC calendar time of `time_ms`, to the second (rounded down, before 1970 too);
// nothing for an unknown time or one the calendar cannot hold (a server's 10^18).
std::optional<std::tm> acquisition_utc(long long time_ms);

} // namespace skyscript::imagery
