#pragma once
// --llm-tpm: at most N tokens (prompt and answer, estimated before sending) in any 60 s, as
// providers count them. A sliding window of what was sent, not a token bucket: a bucket that
// holds a minute's worth lets two minutes' worth through in one minute (a full bucket, then its
// refill), and one that holds less wastes the limit. A request costing more than the whole
// limit is sent when the window is empty, not never.

#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

namespace skyscript::pipeline {

class TokenWindow {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds span{60};

    explicit TokenWindow(std::int64_t per_minute) : limit_(per_minute) {}

    // Records the request and returns true when `cost` fits now (always, with no limit).
    bool take(std::int64_t cost, Clock::time_point now) {
        if (limit_ <= 0) return true;
        expire(now);
        if (!sent_.empty() && used_ + cost > limit_) return false;
        sent_.emplace_back(now, cost);
        used_ += cost;
        return true;
    }

    // How long until `cost` fits (zero when it fits now).
    Clock::duration wait(std::int64_t cost, Clock::time_point now) {
        if (limit_ <= 0) return Clock::duration::zero();
        expire(now);
        std::int64_t used = used_;
        for (const auto& [at, c] : sent_) {
            if (used + cost <= limit_) return Clock::duration::zero();
            used -= c;
            if (used + cost <= limit_ || used == 0) return at + span - now;
        }
        return Clock::duration::zero();
    }

private:
    void expire(Clock::time_point now) {
        while (!sent_.empty() && sent_.front().first + span <= now) {
            used_ -= sent_.front().second;
            sent_.pop_front();
        }
    }

    std::int64_t limit_, used_ = 0;
    std::deque<std::pair<Clock::time_point, std::int64_t>> sent_;
};

} // namespace skyscript::pipeline
