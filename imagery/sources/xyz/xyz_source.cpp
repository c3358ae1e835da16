#include "imagery/sources/xyz/xyz_source.hpp"

#include "imagery/flat_colour.hpp"
#include "imagery/image_decode.hpp"
#include "imagery/image_source.hpp"
#include "imagery/jpeg.hpp"
#include "imagery/jpeg_row_reader.hpp"
#include "imagery/jpeg_row_writer.hpp"
#include "imagery/mercator_resampler.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"
#include "imagery/url_redaction.hpp"

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <numbers>

namespace skyscript::imagery {

namespace {

constexpr double earth_radius = 6378137.0;
constexpr double max_lat = 85.0511287798066;
// The most XYZ tiles one image takes: the zoom's pixels are at most twice as fine as the GSD,
// so the largest image (--max-px 8192) spans 16,384 zoom pixels, 65 x 65 tiles of 256 px; past
// four times that, something is wrong with the grid. Below the 2^20 a request id keeps for its tile's index.
constexpr std::size_t max_tiles_per_image = 16384;
const double world = 2 * std::numbers::pi * earth_radius;

int tile_x(double lon, int z) {
    const int n = 1 << z;
    return std::clamp(static_cast<int>(std::floor((lon + 180.0) / 360.0 * n)), 0, n - 1);
}
int tile_y(double lat, int z) {
    const int n = 1 << z;
    const double r = std::clamp(lat, -max_lat, max_lat) * std::numbers::pi / 180;
    return std::clamp(static_cast<int>(std::floor((1 - std::asinh(std::tan(r)) / std::numbers::pi) / 2 * n)), 0, n - 1);
}

struct Job {
    std::uint64_t id;
    TileGrid grid;
    int z;
    std::vector<XyzTile> tiles;
    std::vector<std::string> bodies; // JPEG tiles, decoded on the worker
    std::vector<RgbImage> images;    // other formats, decoded by the validation
    std::vector<char> have;          // 0 for a missing (404) tile
    std::size_t remaining;
    std::string error;
};

// A worker keeps its window's buffers from image to image (made anew each time, their varying
// sizes fragmented the heap), unless one grew past this: a rare huge tile's are given back.
constexpr std::size_t kept_window_px = std::size_t{1} << 20;

// What a job's pixels make: the image whole, or (jpeg_quality > 0) its JPEG, encoded a band at a
// time, and the share of its pixels with data.
struct Made {
    RgbImage image;
    std::string jpeg;
    double valid_fraction = 0;
    bool flat = false;
};

// Stitches a job's tiles into a Web Mercator mosaic and resamples it onto the grid, a band of
// output rows at a time: the window holds only the mosaic rows the band samples, decoded as
// the bands move down (a JPEG reader a tile column, on the tile row the band is in), and each
// band goes to the JPEG encoder as it is made, so an image's memory is a band's rows, not its
// tiles or its pixels: a 1,000 px image at 0.6 m once held a 2,300 px square mosaic (21 MB),
// then three tile rows of it (5.5 MB) and its pixels (4 MB) (issue 25: memory flat as the jobs,
// and so their largest images, grow).
Made stitch_and_resample(Job& job, const SourceConfig& source, int jpeg_quality) {
    const auto& xyz = source.settings_as<XyzSettings>();
    int min_y = job.tiles.front().y, max_y = min_y;
    const int n = 1 << job.z;
    for (const auto& t : job.tiles) min_y = std::min(min_y, t.y), max_y = std::max(max_y, t.y);
    // Columns in order of the request (west to east, wrapping at the antimeridian): across it
    // the mosaic starts at the western tiles and continues east past +180° with tile column 0.
    std::vector<int> columns;
    for (const auto& t : job.tiles)
        if (std::find(columns.begin(), columns.end(), t.x) == columns.end()) columns.push_back(t.x);
    const int px = xyz.tile_px, ncols = static_cast<int>(columns.size()), nrows = max_y - min_y + 1;
    // Every place in the mosaic is one of the job's tiles (a full block of columns and rows).
    std::vector<int> tile_at(static_cast<std::size_t>(ncols) * nrows, -1);
    bool all_valid = true;
    for (std::size_t i = 0; i < job.tiles.size(); ++i) {
        const int col = static_cast<int>(std::find(columns.begin(), columns.end(), job.tiles[i].x) - columns.begin());
        tile_at[static_cast<std::size_t>(job.tiles[i].y - min_y) * ncols + col] = static_cast<int>(i);
        if (!job.have[i]) all_valid = false;
        else if (job.bodies[i].empty())
            all_valid = all_valid && std::all_of(job.images[i].valid.begin(), job.images[i].valid.end(), [](std::uint8_t v) { return v != 0; });
    }
    all_valid = all_valid && std::find(tile_at.begin(), tile_at.end(), -1) == tile_at.end();
    const double res = world / (double(n) * px);
    const double gt[6] = {-world / 2 + double(columns.front()) * world / n, res, 0, world / 2 - double(min_y) * world / n, 0, -res};
    const auto lattice = mercator_lattice(gt, ncols * px, job.grid);

    thread_local RgbImage window; // mosaic rows [first, first + held)
    thread_local std::vector<std::unique_ptr<JpegRowReader>> readers; // a tile column's JPEG, on tile row reader_row[col]
    while (readers.size() < static_cast<std::size_t>(ncols)) readers.push_back(std::make_unique<JpegRowReader>());
    std::vector<int> reader_row(static_cast<std::size_t>(ncols), -1);
    struct FinishReaders { // the bodies they read are freed with the job
        int ncols;
        ~FinishReaders() {
            for (int c = 0; c < ncols; ++c) readers[static_cast<std::size_t>(c)]->finish();
        }
    } finish_readers{ncols};
    window.width = ncols * px;
    const std::size_t row_px = static_cast<std::size_t>(window.width); // pixels in one mosaic row
    const int mosaic_h = nrows * px;
    // Decodes mosaic rows [r, end) into the window from its row `slot` on.
    auto load = [&](int r, int end, int slot) {
        while (r < end) {
            const int tr = r / px, line = r % px, count = std::min(end, (tr + 1) * px) - r;
            for (int col = 0; col < ncols; ++col) {
                const int i = tile_at[static_cast<std::size_t>(tr) * ncols + col];
                std::uint8_t* rgb = window.rgb.data() + (static_cast<std::size_t>(slot) * row_px + static_cast<std::size_t>(col) * px) * 3;
                std::uint8_t* valid = window.valid.data() + static_cast<std::size_t>(slot) * row_px + static_cast<std::size_t>(col) * px;
                const auto mask = [&](std::uint8_t v) {
                    for (int row = 0; row < count; ++row) std::memset(valid + static_cast<std::size_t>(row) * row_px, v, static_cast<std::size_t>(px));
                };
                if (i < 0 || !job.have[static_cast<std::size_t>(i)]) { // missing tile: stays invalid
                    mask(0);
                    continue;
                }
                if (const auto& body = job.bodies[static_cast<std::size_t>(i)]; !body.empty()) {
                    auto& reader = *readers[static_cast<std::size_t>(col)];
                    try {
                        if (reader_row[static_cast<std::size_t>(col)] != tr || reader.next_row() > line) {
                            reader_row[static_cast<std::size_t>(col)] = -1;
                            reader.start(body, px, px);
                            reader_row[static_cast<std::size_t>(col)] = tr;
                        }
                        if (reader.next_row() < line) reader.read(line - reader.next_row(), nullptr, 0);
                        reader.read(count, rgb, row_px * 3);
                    } catch (const std::runtime_error& e) { // corrupt scan data, which the engine's header check cannot see: named by its tile
                        if (dynamic_cast<const LocalResourceError*>(&e)) throw;
                        throw std::runtime_error("tile " + redact_url(xyz_url(xyz.url, job.tiles[static_cast<std::size_t>(i)], xyz.tms)) + ": " + e.what());
                    }
                    mask(1);
                    continue;
                }
                const auto& img = job.images[static_cast<std::size_t>(i)];
                for (int row = 0; row < count; ++row) {
                    const std::size_t dst = static_cast<std::size_t>(row) * row_px, src = static_cast<std::size_t>(line + row) * px;
                    std::copy_n(img.rgb.begin() + static_cast<std::ptrdiff_t>(src * 3), px * 3, rgb + dst * 3);
                    std::copy_n(img.valid.begin() + static_cast<std::ptrdiff_t>(src), px, valid + dst);
                }
            }
            r += count, slot += count;
        }
    };
    const int w = job.grid.width, h = job.grid.height;
    Made made;
    thread_local JpegRowWriter writer;
    if (jpeg_quality > 0) {
        writer.start(w, h, jpeg_quality);
    } else {
        made.image.width = w, made.image.height = h;
        made.image.rgb.resize(static_cast<std::size_t>(w) * h * 3);
        made.image.valid.resize(static_cast<std::size_t>(w) * h);
    }
    const int band_rows = lattice_band_rows();
    RgbImage band; // rows [y0, y1) of the image
    band.width = w;
    std::size_t valid_px = 0;
    FlatColourCheck flat;
    int first = 0, held = 0;
    for (int y0 = 0; y0 < h; y0 += band_rows) {
        const int y1 = std::min(h, y0 + band_rows);
        // The rows the band samples (with their margin), those of the mosaic: every mosaic row a
        // sample reads is held, as when the window was the whole mosaic.
        const auto [r0, r1] = lattice_source_rows(lattice, y0, y1);
        const int lo = std::clamp(r0, 0, mosaic_h - 1), hi = std::clamp(r1, 0, mosaic_h - 1);
        if (held == 0 || lo < first || lo >= first + held) { // nothing of it held: start afresh
            first = lo, held = 0;
        } else if (lo > first) { // drop the rows above: they stay above every band after this one
            const std::size_t drop = static_cast<std::size_t>(lo - first), keep = static_cast<std::size_t>(held) - drop;
            std::memmove(window.rgb.data(), window.rgb.data() + drop * row_px * 3, keep * row_px * 3);
            std::memmove(window.valid.data(), window.valid.data() + drop * row_px, keep * row_px);
            first = lo, held = static_cast<int>(keep);
        }
        const int need = std::max(held, hi - first + 1);
        window.height = need;
        window.rgb.resize(static_cast<std::size_t>(need) * row_px * 3);
        window.valid.resize(static_cast<std::size_t>(need) * row_px);
        load(first + held, first + need, held);
        held = need;
        band.height = y1 - y0;
        band.rgb.assign(static_cast<std::size_t>(w) * band.height * 3, 0); // black and invalid where nothing reaches
        band.valid.assign(static_cast<std::size_t>(w) * band.height, 0);
        resample_mercator_rows(lattice, window, first, all_valid, y0, y1, band);
        valid_px += static_cast<std::size_t>(std::count_if(band.valid.begin(), band.valid.end(), [](std::uint8_t v) { return v != 0; }));
        flat.add(band.rgb.data(), band.valid.data(), band.valid.size());
        if (jpeg_quality > 0) {
            writer.write(band.rgb.data(), band.height, static_cast<std::size_t>(w) * 3);
        } else {
            std::copy(band.rgb.begin(), band.rgb.end(), made.image.rgb.begin() + static_cast<std::ptrdiff_t>(y0) * w * 3);
            std::copy(band.valid.begin(), band.valid.end(), made.image.valid.begin() + static_cast<std::ptrdiff_t>(y0) * w);
        }
    }
    if (window.rgb.capacity() > kept_window_px * 3) window = RgbImage{};
    made.valid_fraction = w > 0 && h > 0 ? double(valid_px) / (double(w) * double(h)) : 0; // as RgbImage::valid_fraction
    made.flat = flat.flat();
    if (jpeg_quality > 0) made.jpeg = writer.finish();
    return made;
}

} // namespace

double xyz_resolution(int z, double lat, int tile_px) {
    return world * std::cos(std::clamp(lat, -max_lat, max_lat) * std::numbers::pi / 180) / (double(1 << z) * tile_px);
}

int xyz_zoom_for(double gsd, double lat, int tile_px, int max_zoom) {
    for (int z = 0; z <= max_zoom; ++z)
        if (xyz_resolution(z, lat, tile_px) <= gsd) return z;
    return max_zoom;
}

std::string xyz_quadkey(int z, int x, int y) {
    std::string q;
    for (int i = z; i > 0; --i) {
        const int mask = 1 << (i - 1);
        q += static_cast<char>('0' + ((x & mask) ? 1 : 0) + ((y & mask) ? 2 : 0));
    }
    return q;
}

std::optional<std::string> xyz_tile_problem(const HttpResponse& resp, int px, RgbImage& decoded) {
    if (resp.content_type.rfind("image/", 0) != 0 && resp.content_type != "application/octet-stream")
        return "content type " + (resp.content_type.empty() ? std::string("missing") : resp.content_type);
    if (resp.body.size() > 2 && static_cast<unsigned char>(resp.body[0]) == 0xFF && static_cast<unsigned char>(resp.body[1]) == 0xD8)
        return check_jpeg(resp.body, px);
    try {
        decoded = decode_image(resp.body, px, px);
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

std::string xyz_url(const std::string& tmpl, const XyzTile& t, bool tms) {
    const int y = tms ? (1 << t.z) - 1 - t.y : t.y;
    std::string out;
    for (std::size_t i = 0; i < tmpl.size();) {
        auto put = [&](std::string_view token, const std::string& value) {
            if (tmpl.compare(i, token.size(), token) != 0) return false;
            out += value;
            i += token.size();
            return true;
        };
        if (put("{z}", std::to_string(t.z)) || put("{x}", std::to_string(t.x)) || put("{y}", std::to_string(y)) ||
            put("{-y}", std::to_string((1 << t.z) - 1 - t.y)) || put("{q}", xyz_quadkey(t.z, t.x, t.y)))
            continue;
        out += tmpl[i++];
    }
    return out;
}

std::vector<XyzTile> xyz_covering_tiles(const LonLatBox& box, int z) {
    std::vector<std::pair<double, double>> lon_ranges;
    if (box.crosses_antimeridian()) lon_ranges = {{box.west, 180.0}, {-180.0, box.east}};
    else lon_ranges = {{box.west, box.east}};
    std::vector<XyzTile> tiles;
    const int y0 = tile_y(box.north, z), y1 = tile_y(box.south, z);
    int first_x0 = 0, first_x1 = -1; // at zoom 0 or 1 both ranges can hold the same columns: take them once
    for (const auto& [w, e] : lon_ranges) {
        const int x0 = tile_x(w, z), x1 = tile_x(e, z);
        for (int x = x0; x <= x1; ++x)
            if (x < first_x0 || x > first_x1)
                for (int y = y0; y <= y1; ++y) tiles.push_back({z, x, y});
        if (first_x1 < first_x0) first_x0 = x0, first_x1 = x1;
    }
    return tiles;
}

void fetch_xyz_images(const SourceConfig& source, const std::vector<std::pair<std::uint64_t, TileGrid>>& grids,
                      HttpEngine& engine, int workers, int jpeg_quality, const std::function<void(XyzImage&&)>& on_image) {
    const auto& xyz = source.settings_as<XyzSettings>();
    std::vector<Job> jobs;
    jobs.reserve(grids.size());
    for (const auto& [id, grid] : grids) {
        // Web Mercator ends at 85.05 degrees: a tile reaching past it (an object near a pole)
        // has no XYZ tiles, and near the pole a few metres span every longitude, so its zoom
        // asked for millions of tiles (108,000 requests and 7.8 GB in a minute, for one job).
        const auto fail = [&](const std::string& why) {
            XyzImage out;
            out.id = id;
            out.error = why;
            out.job_only = true;
            on_image(std::move(out));
        };
        if (grid.box.north > max_lat || grid.box.south < -max_lat) {
            fail("the tile reaches past 85.05 degrees of latitude, where Web Mercator and its XYZ tiles end");
            continue;
        }
        const double lat = (grid.box.north + grid.box.south) / 2;
        Job job{id, grid, xyz_zoom_for(grid.gsd, lat, xyz.tile_px, xyz.max_zoom), {}, {}, {}, {}, 0, {}};
        job.tiles = xyz_covering_tiles(grid.box, job.z);
        if (job.tiles.size() > max_tiles_per_image) {
            fail("the tile would take " + std::to_string(job.tiles.size()) + " XYZ tiles at zoom " + std::to_string(job.z) + ", more than " +
                 std::to_string(max_tiles_per_image));
            continue;
        }
        job.images.resize(job.tiles.size());
        job.bodies.resize(job.tiles.size());
        job.have.assign(job.tiles.size(), 0);
        job.remaining = job.tiles.size();
        jobs.push_back(std::move(job));
    }
    if (source.requests_per_second > 0) engine.set_rate(source.alias, source.requests_per_second, source.requests_per_second);
    if (source.max_in_flight > 0) engine.set_max_in_flight(source.alias, source.max_in_flight);
    const int px = xyz.tile_px;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        for (std::size_t t = 0; t < jobs[j].tiles.size(); ++t) {
            HttpRequest r;
            r.id = (static_cast<std::uint64_t>(j) << 20) | t;
            r.url = xyz_url(xyz.url, jobs[j].tiles[t], xyz.tms);
            r.source = source.alias;
            r.max_body_bytes = xyz_max_tile_bytes(px);
            // Validation runs on the engine thread, so for JPEG it checks the header and the end
            // marker only; the worker decodes. Other formats are decoded here and kept.
            r.validate = [px, slot = &jobs[j].images[t]](const HttpResponse& resp) { return xyz_tile_problem(resp, px, *slot); };
            engine.submit(std::move(r));
        }
    }
    // No slot reserved for this thread: it runs the HTTP engine, the workers do the pixels.
    // TBB's default cap is cores - 1 workers (it counts this thread); lift it to `workers`.
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(std::max(1, workers)) + 1);
    tbb::task_arena arena(std::max(1, workers), 0);
    // Each job's pixels are handed to the workers with enqueue, which never waits: execute()
    // made this thread wait for a free slot whenever both workers were busy, and a waiting
    // engine starts no request (~5 ms lost a job at 50 ms latency, issue 25).
    std::mutex pending_mutex;
    std::condition_variable pending_done;
    std::size_t pending = 0;
    std::exception_ptr failure; // thrown by on_image (or the machine's): no more requests, then rethrown once the jobs given out are done
    // However this function is left (the engine may throw), not before the jobs given out are done.
    struct WaitForJobs {
        std::mutex& mutex;
        std::condition_variable& done;
        const std::size_t& pending;
        void wait() {
            std::unique_lock lock(mutex);
            done.wait(lock, [&] { return pending == 0; });
        }
        ~WaitForJobs() { wait(); }
    };
    auto complete = [&](Job& job) {
        {
            std::lock_guard lock(pending_mutex);
            ++pending;
        }
        arena.enqueue([&job, &source, jpeg_quality, &on_image, &pending_mutex, &pending_done, &pending, &failure] {
            XyzImage out;
            out.id = job.id;
            std::exception_ptr stopped;
            if (!job.error.empty()) {
                out.error = job.error;
            } else if (std::none_of(job.have.begin(), job.have.end(), [](char h) { return h; })) {
                out.error = "no tile of source " + source.alias + " covers this place (HTTP 404)";
                out.no_imagery = true; // the next eligible source may have it
            } else {
                const double cpu_start = thread_cpu_seconds();
                try {
                    auto made = stitch_and_resample(job, source, jpeg_quality);
                    out.image = std::move(made.image);
                    out.jpeg = std::move(made.jpeg);
                    out.valid_fraction = made.valid_fraction;
                    out.flat = made.flat;
                    out.ok = true;
                } catch (const LocalResourceError&) { // the machine's, not the job's: the fetch stops, the job stays planned
                    stopped = std::current_exception();
                } catch (const std::bad_alloc&) { // the machine's too: no job's failure reason
                    stopped = std::current_exception();
                } catch (const std::exception& e) {
                    out.error = e.what();
                }
                out.cpu_seconds = thread_cpu_seconds() - cpu_start;
            }
            job.images = {};
            job.bodies = {};
            std::exception_ptr thrown = stopped;
            bool refused = false; // on_image refused an earlier result: this job is left as it was (planned), not reported
            {
                std::lock_guard lock(pending_mutex);
                refused = failure != nullptr;
            }
            if (!thrown && !refused) try {
                on_image(std::move(out));
            } catch (...) {
                thrown = std::current_exception();
            }
            std::lock_guard lock(pending_mutex);
            // The machine's failure (out of descriptors, of memory) wins over a caller's refusal:
            // that one stops the whole fetch, a refusal only this source.
            if (stopped) failure = stopped;
            else if (thrown && !failure) failure = thrown;
            if (--pending == 0) pending_done.notify_all();
        });
    };
    WaitForJobs wait_for_jobs{pending_mutex, pending_done, pending};
    for (auto& job : jobs)
        if (job.remaining == 0) complete(job);
    engine.run([&](HttpResult&& r) {
        // on_image refused a result (its caller stops the fetch): no more requests for the
        // batch, which went on to its last tile before (a dead server's batch: hours).
        {
            std::lock_guard lock(pending_mutex);
            if (failure) std::rethrow_exception(failure);
        }
        Job& job = jobs[r.id >> 20];
        const std::size_t t = r.id & ((1u << 20) - 1);
        if (r.ok) {
            job.have[t] = 1;
            if (job.images[t].rgb.empty()) job.bodies[t] = std::move(r.response.body);
        }
        else if (r.response.status != 404 && job.error.empty()) job.error = "tile " + redact_url(xyz_url(xyz.url, job.tiles[t], xyz.tms)) + ": " + r.error;
        if (--job.remaining == 0) complete(job);
    });
    wait_for_jobs.wait();
    if (failure) std::rethrow_exception(failure);
}

} // namespace skyscript::imagery
