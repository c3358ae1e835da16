#include "imagery/reading_threads.hpp"

namespace skyscript::imagery {

ReadingThreads::ReadingThreads(int n, std::function<void()> at_exit) : at_exit_(std::move(at_exit)) {
    for (int i = 1; i < n; ++i) threads_.emplace_back([this] { loop(); });
}

ReadingThreads::~ReadingThreads() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

void ReadingThreads::loop() {
    std::uint64_t seen = 0;
    for (;;) {
        const std::function<void()>* body;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || round_ != seen; });
            if (stop_) break;
            seen = round_;
            body = body_;
        }
        std::exception_ptr failed;
        try {
            (*body)();
        } catch (...) {
            failed = std::current_exception();
        }
        std::lock_guard lock(mutex_);
        if (failed && !failed_) failed_ = failed;
        if (--running_ == 0) done_.notify_all();
    }
    if (at_exit_) at_exit_();
}

void ReadingThreads::run(const std::function<void()>& body) {
    std::lock_guard one_at_a_time(run_mutex_);
    {
        std::lock_guard lock(mutex_);
        body_ = &body;
        running_ = static_cast<int>(threads_.size());
        failed_ = nullptr;
        ++round_;
    }
    wake_.notify_all();
    std::exception_ptr failed;
    try {
        body();
    } catch (...) {
        failed = std::current_exception();
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return running_ == 0; });
    if (!failed) failed = failed_;
    lock.unlock();
    if (failed) std::rethrow_exception(failed);
}

} // namespace skyscript::imagery
