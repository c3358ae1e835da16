#pragma once
// Threads that mostly wait on the network (a stac source's COG reads through GDAL), as many
// as the source may have requests in flight whatever the cores, kept for the source's life:
// what a thread has open (a COG's header, its decoded blocks) serves the next batch too.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace skyscript::imagery {

class ReadingThreads {
public:
    // `n` threads in all (n - 1 started here; the caller of run() is the n-th); `at_exit`
    // runs on each started thread before it ends (e.g. close_rasters_of_this_thread).
    ReadingThreads(int n, std::function<void()> at_exit);
    ~ReadingThreads();
    ReadingThreads(const ReadingThreads&) = delete;
    ReadingThreads& operator=(const ReadingThreads&) = delete;

    // Runs `body` on every thread at once, this one included; returns when all have
    // returned. The first exception `body` throws is rethrown here. One run at a time.
    void run(const std::function<void()>& body);

private:
    void loop();

    std::function<void()> at_exit_;
    std::mutex run_mutex_; // held by run()
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void()>* body_ = nullptr;
    std::uint64_t round_ = 0;
    int running_ = 0;
    bool stop_ = false;
    std::exception_ptr failed_;
    std::vector<std::thread> threads_;
};

} // namespace skyscript::imagery
