#include "pipeline/common/progress.hpp"


#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace skyscript::pipeline {

std::string format_duration(double s) {
    char buf[32];
    if (!std::isfinite(s) || s < 0) return "?";
    if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
    return buf;
}

Progress::Progress(std::string label, bool quiet, Unit unit)
    : label_(std::move(label)), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1), unit_(unit), start_(clock::now()), last_(start_) {}

void Progress::update(std::uint64_t done, std::uint64_t total, std::uint64_t items, const std::string& item_name) {
    if (quiet_) return;
    const auto now = clock::now();
    const auto since_last = std::chrono::duration<double>(now - last_).count();
    if (since_last < (tty_ ? 0.1 : 5.0)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double frac = total ? std::min(1.0, double(done) / double(total)) : 0.0;
    const double eta = frac > 0 ? elapsed * (1 - frac) / frac : -1;
    const double mb_rate = elapsed > 0 ? double(done) / 1e6 / elapsed : 0;
    const double item_rate = elapsed > 0 ? double(items) / elapsed : 0;
    if (unit_ == Unit::counted) {
        if (tty_) {
            constexpr int width = 30;
            const int filled = int(frac * width);
            std::fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %llu/%llu %s (%.1f/s) ETA %s \x1b[K", label_.c_str(), filled,
                         "##############################", width - filled, "", frac * 100, static_cast<unsigned long long>(done),
                         static_cast<unsigned long long>(total), item_name.c_str(), item_rate, format_duration(eta).c_str());
            drawn_ = true;
        } else {
            std::fprintf(stderr, "%s: %.0f%%, %llu/%llu %s (%.1f/s), ETA %s\n", label_.c_str(), frac * 100,
                         static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), item_name.c_str(), item_rate,
                         format_duration(eta).c_str());
        }
    } else if (tty_) {
        constexpr int width = 30;
        const int filled = int(frac * width);
        std::fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %6.1f MB/s %10llu %s (%.0f/s) ETA %s \x1b[K", label_.c_str(), filled,
                     "##############################", width - filled, "", frac * 100, mb_rate,
                     static_cast<unsigned long long>(items), item_name.c_str(), item_rate, format_duration(eta).c_str());
        drawn_ = true;
    } else {
        std::fprintf(stderr, "%s: %.0f%% %.1f MB/s, %llu %s (%.0f/s), ETA %s\n", label_.c_str(), frac * 100, mb_rate,
                     static_cast<unsigned long long>(items), item_name.c_str(), item_rate, format_duration(eta).c_str());
    }
    std::fflush(stderr);
}

void Progress::finish() {
    if (drawn_) std::fprintf(stderr, "\r\x1b[K");
    drawn_ = false;
}

} // namespace skyscript::pipeline
