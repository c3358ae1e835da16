#include "imagery/sources/gdal/gdal_kind.hpp"

#include "imagery/local_file_stamp.hpp"
#include "imagery/source_key_text.hpp"
#include "imagery/source_table.hpp"
#include "imagery/sources/gdal/gdal_source.hpp"
#include "imagery/url_redaction.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <unordered_map>

namespace skyscript::imagery {

namespace {

const std::string& path_of(const SourceConfig& s) { return s.settings_as<GdalSettings>().path; }

// A `bands` number the raster does not have: the source's error, said once, not every job's.
std::string missing_band(const SourceConfig& s, int raster_bands) {
    for (const int n : s.band_numbers())
        if (n < 1 || n > raster_bands)
            return redact_url(path_of(s)) + ": band " + std::to_string(n) + " does not exist (the raster has " + std::to_string(raster_bands) + " bands: `bands` in the sources file, --bands for fetch-one)";
    return "";
}

// GDALWarp per tile on worker threads, datasets reused per thread.
class GdalImageSource : public ImageSource {
public:
    GdalImageSource(const SourceConfig& c, const ImageSourceOptions& o) : ImageSource(c), path_(path_of(c)), workers_(image_workers(o.workers, o.cores)) {
        set_gdal_http_defaults(o.http.timeout_s, o.http.connect_timeout_s, o.http.max_attempts);
        read_.resampling = o.resampling;
        read_.bands = c.band_numbers();
        if (c.stretch) {
            read_.stretch.mode = Stretch::Mode::fixed;
            read_.stretch.min = c.stretch->first;
            read_.stretch.max = c.stretch->second;
        } else if (o.stretch_per_tile) {
            read_.stretch.mode = Stretch::Mode::tile;
        }
        // Opened now: a missing file, or a band it does not have, is reported before any job.
        if (const auto problem = missing_band(c, describe_raster(path_).bands); !problem.empty()) throw RasterError(problem);
        if (const auto problem = rgb_band_problem(path_, read_.bands); !problem.empty()) throw RasterError(redact_url(problem));
    }

    void fetch(std::span<const TileJob> jobs, const std::function<void(FetchedTile&&)>& on_tile) override {
        // --workers above the cores (a remote raster's reads wait on the network): TBB's own cap
        // is the cores, and an arena past it printed TBB's warning mid-build (red-team round 37).
        tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                        std::max<std::size_t>(static_cast<std::size_t>(workers_), tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism)));
        tbb::task_arena arena(workers_);
        arena.execute([&] {
            tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t i) {
                // on_tile refused a result (its caller stopped this source): the jobs not begun
                // are left as they were, not read (a stalled server held each for --timeout).
                if (tbb::is_current_task_group_canceling()) return;
                FetchedTile t;
                t.id = jobs[i].id;
                const double cpu = thread_cpu_seconds();
                try {
                    t.image = read_raster_tile(path_, jobs[i].grid, read_);
                    t.ok = true;
                } catch (const LocalResourceError&) { // the machine's, not the job's: the fetch stops, the job stays planned
                    throw;
                } catch (const std::bad_alloc&) { // the machine's too: no job's failure reason
                    throw;
                } catch (const std::exception& e) {
                    t.error = redact_url(e.what());
                    stop_if_out_of_file_descriptors(t.error);
                }
                t.cpu_seconds = thread_cpu_seconds() - cpu;
                on_tile(std::move(t));
            });
        });
    }

private:
    std::string path_;
    RasterReadOptions read_;
    int workers_;
};

class GdalKind : public SourceKind {
public:
    std::string_view name() const override { return "gdal"; }
    std::vector<std::string_view> keys() const override { return {"path", "bands", "stretch"}; }
    bool gsd_from_data() const override { return true; }
    bool numbered_bands() const override { return true; }

    std::shared_ptr<const SourceSettings> parse(const SourceTable& table, const SourceConfig&) const override {
        auto settings = std::make_shared<GdalSettings>();
        settings->path = table.string("path", true);
        return settings;
    }

    // The raster's own footprint and GSD where the configuration gives none.
    void resolve_from_data(SourceConfig& source) const override {
        if (source.coverage_given && source.gsd > 0) return;
        const auto info = describe_raster(path_of(source));
        if (!source.coverage_given) {
            source.coverage = info.coverage;
            source.coverage_given = true;
        }
        if (!(source.gsd > 0)) source.gsd = info.gsd_m;
    }

    SourceKeyFields key_fields(const SourceConfig& source) const override {
        SourceKeyFields fields;
        fields.path = path_of(source);
        return fields;
    }

    // The fields, and a local raster's size and time: --reuse must not take pixels of a file since replaced.
    std::string tile_key_part(const SourceConfig& source) const override {
        auto fields = key_fields(source);
        thread_local std::unordered_map<std::string, std::string> stamps; // one listing per raster, not per job
        auto [it, added] = stamps.try_emplace(path_of(source));
        if (added) it->second = data_stamp(source);
        fields.file_stamp = it->second;
        return source_tile_key_text(name(), source, fields);
    }

    // The raster's file and every other local file GDAL reads for it: a VRT's member
    // replaced, or overviews built, change the pixels as much as the file itself.
    std::string data_stamp(const SourceConfig& source) const override {
        const auto& path = path_of(source);
        const auto file = local_file(source);
        if (!file && !path.starts_with("<")) return ""; // remote: GDAL fetches it, nothing here to stamp
        return files_stamp(file.value_or(""), raster_local_files(path));
    }

    // The raster's file, or the local archive it is read from (/vsizip/...).
    std::optional<std::string> local_file(const SourceConfig& source) const override {
        const auto file = local_file_behind(path_of(source));
        return file.empty() ? std::nullopt : std::optional(file);
    }

    Usability usability(const SourceConfig& source, bool check) const override {
        const auto& path = path_of(source);
        const bool local = path.find("/vsi") != 0 && path.find("://") == std::string::npos && path.find('<') == std::string::npos;
        std::error_code ec;
        if (local && std::filesystem::is_directory(path, ec)) return not_usable(path + " is a directory, not a raster");
        if (local && std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) // opening a pipe waits for a writer
            return not_usable(path + " is a pipe or a device, not a raster");
        if (local && !std::ifstream(path)) return not_usable(path + " is not readable");
        if (!check) return usable(local ? "usable (file readable; --check opens it)" : "usable if it opens (--check opens it)");
        set_gdal_http_defaults(10, 10, 2); // a check answers in seconds
        try {
            const auto info = describe_raster(path);
            if (const auto problem = missing_band(source, info.bands); !problem.empty()) return not_usable(problem);
            if (const auto problem = rgb_band_problem(path, source.band_numbers()); !problem.empty()) return not_usable(redact_url(problem));
            char buf[128];
            std::snprintf(buf, sizeof buf, "usable: %d band(s) %s, native GSD %.2f m", info.bands, info.data_type.c_str(), info.gsd_m);
            return usable(buf);
        } catch (const std::exception& e) {
            return not_usable(e.what());
        }
    }

    std::unique_ptr<ImageSource> open(const SourceConfig& source, const ImageSourceOptions& options) const override {
        return std::make_unique<GdalImageSource>(source, options);
    }

    // Named by its path (a /vsicurl/ URL's key or signature not printed); an empty tile
    // says where the raster has data.
    std::string explain_missing_tile(const SourceConfig& source, const FetchedTile& tile) const override {
        const std::string raster = redact_url(path_of(source));
        if (!tile.ok) return tile.error.starts_with(raster) ? tile.error : raster + ": " + tile.error;
        const auto info = describe_raster(path_of(source));
        char buf[160];
        std::snprintf(buf, sizeof buf, ": no data in this tile (the raster covers lon %.5f..%.5f, lat %.5f..%.5f)",
                      info.coverage.west, info.coverage.east, info.coverage.south, info.coverage.north);
        return raster + buf;
    }
};

} // namespace

const SourceKind& gdal_kind() {
    static const GdalKind kind;
    return kind;
}

SourceConfig gdal_raster_source(const std::string& path) {
    SourceConfig config;
    config.alias = "RASTER";
    config.kind = &gdal_kind();
    auto settings = std::make_shared<GdalSettings>();
    settings->path = path;
    config.settings = std::move(settings);
    return config;
}

} // namespace skyscript::imagery
