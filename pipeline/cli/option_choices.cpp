#include "pipeline/cli/option_choices.hpp"

#include "captions/caption_styles.hpp"
#include "pipeline/common/build_options.hpp"
#include "pipeline/dataset/sample_formats.hpp"

namespace skyscript::pipeline {

void register_option_choices() {
    std::vector<std::string> styles;
    for (const auto* kind : captions::caption_style_kinds()) styles.emplace_back(kind->name);
    set_option_choices("caption-style", std::move(styles));
    set_option_choices("format", format_values());
}

} // namespace skyscript::pipeline
