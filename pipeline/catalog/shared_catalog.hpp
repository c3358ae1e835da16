#pragma once
// --catalog PATH: a catalog.gpkg made once by `extract` (on one machine, placed on shared
// storage) used by a build instead of extracting INPUT again -- what each worker of a
// sharded build does (docs/scale.md). It is hard-linked into OUT (copied across file
// systems), after checking it was extracted from an input of INPUT's size and with the
// tag list this build plans with.

#include "pipeline/common/build_options.hpp"

#include <string>

namespace skyscript::pipeline {

struct SharedCatalog {
    std::string placed_at;
    std::int64_t objects = 0;
    bool copied = false;
};

// Throws one line naming `catalog` when it is missing, not a catalog, or made from
// another input or tag list than `options` ask for.
SharedCatalog place_shared_catalog(const std::string& catalog, const std::string& out_dir, const BuildOptions& options);

} // namespace skyscript::pipeline
