#pragma once
// A job's record in the form Arrow reads, and so Hugging Face `datasets` and the Hub's viewer
// (the `hf` format's metadata.jsonl, the webdataset shards' STEM.json). Arrow gives a column
// one type, inferred from the rows: imagefolder from the first 10 MB of each split's
// metadata.jsonl, and it refuses splits whose columns differ; webdataset from the first five
// samples, and it drops keys they lack. meta.jsonl's record is not of that shape: an area's
// geometry_px is rings where a point's is [x, y], tag dicts have the keys of their object, and
// provenance, polish and objects are there only for some images. So here every row has the same
// keys in the same order: the build's caption fields ("" where a job lacks one), then the
// record's keys, those whose shape varies with the image (the tags, objects, provenance,
// polish) as JSON text ("{}" or "[]" where absent) that json.loads turns into meta.jsonl's value.

#include "pipeline/state/job.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace skyscript::pipeline {

// One line (with its newline): `name_key`: `name`, then the captions and the record.
std::string hub_record_line(const Job& job, std::string_view name_key, const std::string& name, const std::vector<std::string>& caption_fields);

} // namespace skyscript::pipeline
