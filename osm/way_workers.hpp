#pragma once
// Pass 2's buffers on worker threads (issue 25): a buffer's nodes become point rows, its ways
// get their nodes' locations from the node index (complete and only read by then: nodes come
// first) and become lines or assembled areas, and their rows are made, on any worker; the pieces come back in
// reading order, so the catalog is the same byte for byte whatever the thread count. With one
// thread the work runs on the reading thread itself, in the same order.

#include "osm/catalog_builder.hpp"

#include <osmium/memory/buffer.hpp>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace skyscript::osm {

// One input buffer on its way through pass 2, or one chunk of rows read back from scratch.
struct WayPiece {
    static constexpr std::size_t no_chunk = static_cast<std::size_t>(-1);
    std::size_t spill_chunk = no_chunk; // a RowSpill chunk for a worker to read back
    osmium::memory::Buffer buffer; // its nodes and ways (invalid: nothing for a worker)
    bool ways = false;             // the buffer holds ways (the relations want to see them)
    bool store_locations = false;  // the worker stores its nodes' locations (a dense index filled ahead)
    bool guard_tags = false;       // the worker makes its tag lists safe first (tag_list_guard.hpp)
    MadeRows made;                 // the rows, in reading order: its nodes', then its ways'
    std::uint64_t offset = 0;      // of the input, read up to here (progress)
    std::exception_ptr error;      // what the work threw, rethrown on the reading thread
    bool done = false;
};

class WayWorkers {
public:
    // work(piece, worker): makes the rows of the piece's nodes and ways with the worker's own state (0 .. threads-1).
    using Work = std::function<void(WayPiece&, int worker)>;
    using Done = std::function<void(WayPiece&)>;
    WayWorkers(int threads, Work work, Done done);
    ~WayWorkers();
    WayWorkers(const WayWorkers&) = delete;
    WayWorkers& operator=(const WayWorkers&) = delete;

    // Queues a piece (with objects: for a worker), then hands every finished piece at the front
    // to `done` in reading order; waits while too many are in progress (memory stays bounded).
    void push(std::unique_ptr<WayPiece> piece);
    // Waits for every piece and hands them all to `done` (more may be pushed after).
    void finish();

private:
    void run(int worker);
    void stop_and_join() noexcept;
    void hand_over(bool wait_for_all);

    Work work_;
    Done done_;
    std::size_t max_pending_;
    std::mutex mutex_;
    std::condition_variable queued_, finished_;
    std::deque<std::unique_ptr<WayPiece>> in_order_; // every piece not yet handed over, in reading order
    std::deque<WayPiece*> to_do_;                    // those with objects no worker has taken yet
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace skyscript::osm
