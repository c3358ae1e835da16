#include "pipeline/common/progress.hpp"


#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/ioctl.h>
#include <unistd.h>

namespace skyscript::pipeline {

std::string format_duration(double s) {
    char buf[32];
    if (!std::isfinite(s) || s < 0) return "?";
    if (s >= 100.0 * 86400) return "over 99 days"; // and no int overflow below
    if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
    return buf;
}

Progress::Progress(std::string label, bool quiet, Unit unit)
    : label_(std::move(label)), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1), unit_(unit), start_(clock::now()), last_(start_) {
    const char* term = std::getenv("TERM");
    ansi_ = tty_ && !(term && (std::strcmp(term, "dumb") == 0 || !*term));
}

// The bar redrawn over itself: cut to the terminal's width (a line that wraps leaves a copy
// of itself on every redraw, \r going back only to its last row), the rest of the last one
// cleared with ESC [K, or with spaces on a terminal that has no escapes (TERM=dumb).
void Progress::draw(std::string line) {
    winsize ws{};
    std::size_t columns = 80;
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) columns = ws.ws_col;
    else if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) columns = static_cast<std::size_t>(std::atoi(c));
    if (line.size() >= columns) line.resize(columns > 1 ? columns - 1 : 0);
    std::string out(1, '\r'); // not "\r" + line: GCC 12's -Wrestrict false positive
    out += line;
    if (ansi_) out += "\x1b[K";
    else if (line.size() < drawn_width_) out.append(drawn_width_ - line.size(), ' ');
    std::fputs(out.c_str(), stderr);
    drawn_width_ = line.size();
    drawn_ = true;
}

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
            char buf[512];
            std::snprintf(buf, sizeof buf, "%s [%.*s%*s] %3.0f%% %llu/%llu %s (%.1f/s) ETA %s", label_.c_str(), filled,
                          "##############################", width - filled, "", frac * 100, static_cast<unsigned long long>(done),
                          static_cast<unsigned long long>(total), item_name.c_str(), item_rate, format_duration(eta).c_str());
            draw(buf);
        } else {
            std::fprintf(stderr, "%s: %.0f%%, %llu/%llu %s (%.1f/s), ETA %s\n", label_.c_str(), frac * 100,
                         static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), item_name.c_str(), item_rate,
                         format_duration(eta).c_str());
        }
    } else if (tty_) {
        constexpr int width = 30;
        const int filled = int(frac * width);
        char buf[512];
        std::snprintf(buf, sizeof buf, "%s [%.*s%*s] %3.0f%% %6.1f MB/s %10llu %s (%.0f/s) ETA %s", label_.c_str(), filled,
                      "##############################", width - filled, "", frac * 100, mb_rate, static_cast<unsigned long long>(items),
                      item_name.c_str(), item_rate, format_duration(eta).c_str());
        draw(buf);
    } else {
        std::fprintf(stderr, "%s: %.0f%% %.1f MB/s, %llu %s (%.0f/s), ETA %s\n", label_.c_str(), frac * 100, mb_rate,
                     static_cast<unsigned long long>(items), item_name.c_str(), item_rate, format_duration(eta).c_str());
    }
    std::fflush(stderr);
}

void Progress::finish() {
    if (drawn_ && ansi_) std::fputs("\r\x1b[K", stderr);
    else if (drawn_) std::fprintf(stderr, "\r%*s\r", static_cast<int>(drawn_width_), "");
    drawn_ = false;
    drawn_width_ = 0;
}

} // namespace skyscript::pipeline
