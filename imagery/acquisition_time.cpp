#include "imagery/acquisition_time.hpp"

namespace skyscript::imagery {

std::optional<std::tm> acquisition_utc(long long time_ms) {
    if (!acquisition_time_known(time_ms)) return std::nullopt;
    const long long seconds = time_ms / 1000 - (time_ms % 1000 < 0 ? 1 : 0); // floor: -1 ms is 1969-12-31T23:59:59
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return std::nullopt;
    return tm;
}

} // namespace skyscript::imagery
