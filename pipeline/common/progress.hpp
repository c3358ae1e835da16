#pragma once
// Progress of a long stage: a redrawn bar with rate and ETA when stderr is a
// terminal, a plain log line every few seconds otherwise, nothing with --quiet.

#include <chrono>
#include <cstdint>
#include <string>

namespace skyscript::pipeline {

class Progress {
public:
    // bytes: done/total are bytes of input (shown as MB/s); counted: done/total are the
    // items themselves ("1200/4151 images (61/s)").
    enum class Unit { bytes, counted };
    Progress(std::string label, bool quiet, Unit unit = Unit::bytes);
    // done/total in the unit; `items` is shown with its rate.
    void update(std::uint64_t done, std::uint64_t total, std::uint64_t items, const std::string& item_name);
    void finish();

private:
    void draw(std::string line);

    using clock = std::chrono::steady_clock;
    std::string label_;
    bool quiet_, tty_, ansi_ = false;
    std::size_t drawn_width_ = 0;
    Unit unit_;
    clock::time_point start_, last_;
    bool drawn_ = false;
};

std::string format_duration(double seconds);

} // namespace skyscript::pipeline
