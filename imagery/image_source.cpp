#include "imagery/image_source.hpp"

#include "imagery/earthengine_source.hpp"
#include "imagery/gdal_source.hpp"
#include "imagery/service_account.hpp"
#include "imagery/url_redaction.hpp"
#include "imagery/xyz_source.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace skyscript::imagery {

namespace {

int worker_count(int asked) {
    return asked > 0 ? asked : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::vector<std::pair<std::uint64_t, TileGrid>> as_grids(std::span<const TileJob> jobs) {
    std::vector<std::pair<std::uint64_t, TileGrid>> grids;
    grids.reserve(jobs.size());
    for (const auto& j : jobs) grids.emplace_back(j.id, j.grid);
    return grids;
}

class GdalImageSource : public ImageSource {
public:
    GdalImageSource(const SourceConfig& c, const ImageSourceOptions& o) : ImageSource(c), workers_(worker_count(o.workers)) {
        set_gdal_http_defaults(o.http.timeout_s, o.http.connect_timeout_s, o.http.max_attempts);
        read_.resampling = o.resampling;
        for (const auto& b : c.bands) read_.bands.push_back(std::stoi(b));
        if (c.stretch) {
            read_.stretch.mode = Stretch::Mode::fixed;
            read_.stretch.min = c.stretch->first;
            read_.stretch.max = c.stretch->second;
        } else if (o.stretch_per_tile) {
            read_.stretch.mode = Stretch::Mode::tile;
        }
        (void)describe_raster(c.path); // opens it now: a missing file is reported before any job
    }

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        tbb::task_arena arena(workers_);
        arena.execute([&] {
            tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t i) {
                FetchedTile t;
                t.id = jobs[i].id;
                const double cpu = thread_cpu_seconds();
                try {
                    t.image = read_raster_tile(config_.path, jobs[i].grid, read_);
                    t.ok = true;
                } catch (const std::exception& e) {
                    t.error = redact_url(e.what());
                }
                t.cpu_seconds = thread_cpu_seconds() - cpu;
                on_tile(std::move(t));
            });
        });
    }

private:
    RasterReadOptions read_;
    int workers_;
};

class XyzImageSource : public ImageSource {
public:
    XyzImageSource(const SourceConfig& c, const ImageSourceOptions& o)
        : ImageSource(c), engine_(o.http), workers_(worker_count(o.workers)) {}

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        fetch_xyz_images(config_, as_grids(jobs), engine_, workers_, [&](XyzImage&& r) {
            FetchedTile t;
            t.id = r.id;
            t.ok = r.ok;
            t.image = std::move(r.image);
            t.error = redact_url(r.error); // every reason a tile is failed with is stored and shown
            t.cpu_seconds = r.cpu_seconds;
            on_tile(std::move(t));
        });
    }
    std::uint64_t requests() const noexcept override { return engine_.stats().requests; }

private:
    HttpEngine engine_;
    int workers_;
};

class EarthEngineImageSource : public ImageSource {
    // The engine must allow what the project's quota allows (40 in flight unless the source
    // says less): the source's own cap is what bounds it, not the generic default of 32.
    static HttpEngineOptions engine_options(const SourceConfig& c, HttpEngineOptions http) {
        const int cap = c.max_in_flight > 0 ? std::min(c.max_in_flight, earthengine_max_in_flight) : earthengine_max_in_flight;
        http.max_in_flight = std::max(http.max_in_flight, cap);
        return http;
    }

public:
    EarthEngineImageSource(const SourceConfig& c, const ImageSourceOptions& o, ServiceAccount account)
        : ImageSource(c), engine_(engine_options(c, o.http)), project_(c.project.empty() ? account.project_id : c.project),
          tokens_(std::move(account)) {
        if (project_.empty())
            throw std::runtime_error("source " + c.alias + ": no Cloud project (set `project` in the source or use a key with project_id)");
    }

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        fetch_earthengine_images(config_, project_, as_grids(jobs), engine_, tokens_, [&](EarthEngineImage&& r) {
            FetchedTile t;
            t.id = r.id;
            t.ok = r.ok;
            t.image = std::move(r.image);
            t.error = redact_url(r.error); // every reason a tile is failed with is stored and shown
            t.time_ms = r.time_ms;
            on_tile(std::move(t));
        });
    }
    std::uint64_t requests() const noexcept override { return engine_.stats().requests; }

private:
    HttpEngine engine_;
    std::string project_;
    TokenCache tokens_;
};

} // namespace

std::unique_ptr<ImageSource> open_image_source(const SourceConfig& config, const ImageSourceOptions& options) {
    switch (config.kind) {
        case SourceKind::gdal: return std::make_unique<GdalImageSource>(config, options);
        case SourceKind::xyz: return std::make_unique<XyzImageSource>(config, options);
        case SourceKind::earthengine:
            return std::make_unique<EarthEngineImageSource>(config, options, service_account_from_environment());
    }
    throw std::logic_error("unknown source kind");
}

} // namespace skyscript::imagery
