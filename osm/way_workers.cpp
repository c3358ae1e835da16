#include "osm/way_workers.hpp"

#include <stdexcept>
#include <string>
#include <system_error>

#include <pthread.h>

namespace skyscript::osm {

WayWorkers::WayWorkers(int threads, Work work, Done done)
    : work_(std::move(work)), done_(std::move(done)), max_pending_(4 * static_cast<std::size_t>(std::max(threads, 1))) {
    if (threads <= 1) return;
    threads_.reserve(static_cast<std::size_t>(threads)); // no allocation between the threads' starts
    try {
        for (int i = 0; i < threads; ++i)
            threads_.emplace_back([this, i] {
                pthread_setname_np(pthread_self(), "way_worker"); // named for perf and bench/extract
                run(i);
            });
    } catch (const std::system_error& e) {
        // The destructor does not run for a constructor that throws: the threads already started
        // are stopped and joined here (a joinable thread destroyed ends the process, no word said).
        const auto started = threads_.size();
        stop_and_join();
        throw std::runtime_error("cannot start worker thread " + std::to_string(started + 1) + " of " + std::to_string(threads) + " (" + e.what() +
                                 "): give fewer --threads");
    }
}

WayWorkers::~WayWorkers() { stop_and_join(); }

void WayWorkers::stop_and_join() noexcept {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        to_do_.clear(); // left by an error: not worth doing
    }
    queued_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void WayWorkers::run(int worker) {
    for (;;) {
        WayPiece* piece = nullptr;
        {
            std::unique_lock lock(mutex_);
            queued_.wait(lock, [&] { return stopping_ || !to_do_.empty(); });
            if (to_do_.empty()) return; // stopping
            piece = to_do_.front();
            to_do_.pop_front();
        }
        try {
            work_(*piece, worker);
        } catch (...) {
            piece->error = std::current_exception();
        }
        {
            std::lock_guard lock(mutex_);
            piece->done = true;
        }
        finished_.notify_all();
    }
}

void WayWorkers::push(std::unique_ptr<WayPiece> piece) {
    const bool has_objects = piece->spill_chunk != WayPiece::no_chunk || (piece->buffer && piece->buffer.committed() > 0); // anything for a worker
    if (threads_.empty() || !has_objects) { // one thread, or nothing for a worker: done here, now
        if (has_objects) {
            try {
                work_(*piece, 0);
            } catch (...) {
                piece->error = std::current_exception();
            }
        }
        piece->done = true;
        {
            std::lock_guard lock(mutex_);
            in_order_.push_back(std::move(piece));
        }
    } else {
        {
            std::lock_guard lock(mutex_);
            to_do_.push_back(piece.get());
            in_order_.push_back(std::move(piece));
        }
        queued_.notify_one();
    }
    hand_over(false);
}

void WayWorkers::finish() { hand_over(true); }

void WayWorkers::hand_over(bool wait_for_all) {
    for (;;) {
        std::unique_ptr<WayPiece> front;
        {
            std::unique_lock lock(mutex_);
            if (in_order_.empty()) return;
            const bool must_wait = wait_for_all || in_order_.size() > max_pending_;
            if (!in_order_.front()->done) {
                if (!must_wait) return;
                finished_.wait(lock, [&] { return in_order_.front()->done; });
            }
            front = std::move(in_order_.front());
            in_order_.pop_front();
        }
        if (front->error) {
            // The pieces behind it may still be worked on: they are left to the destructor,
            // which waits for the workers before anything they use goes away.
            std::rethrow_exception(front->error);
        }
        done_(*front);
    }
}

} // namespace skyscript::osm
