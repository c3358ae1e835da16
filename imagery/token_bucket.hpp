#pragma once
// A source's requests-per-second limit: a token bucket (RATE tokens a second, at most BURST
// held). The HTTP engine consults it between its own requests; BlockingRate makes threads
// that request outside the engine (GDAL's /vsicurl/ reads of COGs) wait their turn on it.

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

namespace skyscript::imagery {

struct TokenBucket {
    using Clock = std::chrono::steady_clock;
    double rate = 0, burst = 1, tokens = 1;
    Clock::time_point last = Clock::now();
    void refill(Clock::time_point now) {
        tokens = std::min(burst, tokens + rate * std::chrono::duration<double>(now - last).count());
        last = now;
    }
    // Seconds until one token is there (0 if now).
    double wait(Clock::time_point now) {
        refill(now);
        return tokens >= 1 ? 0 : (1 - tokens) / rate;
    }
};

// The bucket shared by threads: take() returns when this thread may make its request.
// A rate of 0 or less never waits.
class BlockingRate {
public:
    BlockingRate(double per_second, double burst) {
        bucket_.rate = per_second;
        bucket_.burst = std::max(1.0, burst);
        bucket_.tokens = bucket_.burst;
    }
    void take() {
        if (!(bucket_.rate > 0)) return;
        std::unique_lock lock(mutex_);
        // Tokens may go negative: each thread reserves its slot, then sleeps until it comes.
        bucket_.refill(TokenBucket::Clock::now());
        bucket_.tokens -= 1;
        const double wait = bucket_.tokens >= 0 ? 0 : -bucket_.tokens / bucket_.rate;
        lock.unlock();
        if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }

private:
    std::mutex mutex_;
    TokenBucket bucket_;
};

} // namespace skyscript::imagery
