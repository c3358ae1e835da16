#include "pipeline/plan/plan_options.hpp"

#include "captions/caption_styles.hpp"

namespace skyscript::pipeline {

PlanOptions plan_options(const BuildOptions& options) {
    PlanOptions o;
    o.tags = options.text("tags");
    o.sources = options.text("sources");
    o.policy = parse_source_policy(options.text("source-policy"));
    o.placement = placement_options(options);
    o.part_size = options.integer("part-size");
    o.quality = static_cast<int>(options.integer("quality"));
    if (o.part_size < 1) throw UsageError("--part-size must be >= 1");
    o.shard = shard_of(options);
    o.sampling = sampling_options(options);
    o.max_surrounding = static_cast<std::size_t>(options.integer("max-surrounding"));
    o.min_visible = parse_min_visible(options.text("min-visible-px"));
    o.caption_style = options.text("caption-style");
    o.threads = static_cast<int>(options.integer("threads"));
    for (const OptionName name : read_sample_option_names) o.read_sample_values.emplace_back(name, options.text(name));
    if (!captions::find_caption_style(o.caption_style))
        throw UsageError("--caption-style: expected " + captions::caption_style_choices() + ", got `" + o.caption_style + "`");
    return o;
}

} // namespace skyscript::pipeline
