#pragma once
// The options whose values are a registry's names (--caption-style: captions/caption_styles.cpp,
// --format: pipeline/dataset/sample_formats.cpp), told to the option table before the command
// line is read, so a new style or format is accepted without an edit here.

namespace skyscript::pipeline {

void register_option_choices();

} // namespace skyscript::pipeline
