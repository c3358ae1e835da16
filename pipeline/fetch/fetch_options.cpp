#include "pipeline/fetch/fetch_options.hpp"

#include "pipeline/common/system_info.hpp"

#include <algorithm>

namespace skyscript::pipeline {

namespace {

FetchOptions read_fetch_options(const BuildOptions& options) {
    FetchOptions o;
    o.sources = options.text("sources");
    o.plan = plan_options(options);
    o.retry_failed = options.flag("retry-failed");
    o.min_valid = options.number("min-valid");
    o.quality = static_cast<int>(options.integer("quality"));
    if (o.quality < 1 || o.quality > 100) throw UsageError("--quality: expected 1..100");
    if (o.min_valid < 0 || o.min_valid > 1) throw UsageError("--min-valid: expected a share of the tile's pixels, 0..1");
    o.source.http.max_in_flight = static_cast<int>(options.integer("in-flight"));
    o.source.http.timeout_s = options.number("timeout");
    o.source.http.max_attempts = static_cast<int>(options.integer("attempts"));
    o.source.workers = static_cast<int>(options.integer("workers"));
    o.source.cores = usable_cores(); // not the machine's: a Slurm allocation or taskset may give fewer
    o.source.jpeg_quality = o.quality; // a kind that can encodes as it goes: no image held whole
    const auto batch = options.integer("batch");
    o.batch = batch > 0 ? static_cast<std::size_t>(batch) : static_cast<std::size_t>(std::max(256, o.source.http.max_in_flight * 16));
    o.reuse = options.values("reuse");
    return o;
}

} // namespace

FetchOptions fetch_options(const BuildOptions& options) {
    try {
        return read_fetch_options(options);
    } catch (const UsageError& e) { // a value OUT recorded (a state DB edited) named as its, not as a flag never typed
        throw UsageError(options.with_origin(e.what()));
    }
}

} // namespace skyscript::pipeline
