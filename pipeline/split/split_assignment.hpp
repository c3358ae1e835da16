#pragma once
// Which split each image is in (docs/splits.md): train_unfiltered, val or test, by spatial
// block, deterministic from the seed.
//
// - An image's block is the --split-block degree cell (default 0.05) of its box centre.
// - Blocks that share an OSM object (its images from several sources fall in different
//   cells) are joined into one group, so an object is never in two splits.
// - Groups are visited in the order of a seeded hash of their smallest block; a group goes
//   whole to test while it fits in what test still lacks, else to val while it fits, else to
//   train. So no val/test image shares a block with a train image, and val/test hold at
//   most the asked number of images. When no group fits (blocks larger than the asked size)
//   the smallest train group is taken, and train always keeps at least one group.
// - Sizes are a count ("5000"), a share of the images ("2%"), or "auto": SkyScript's
//   5,000 / 30,000 (of 5.2 M images), and for smaller inputs 2% / 10% of the images
//   (at least one each), whichever is smaller.

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::pipeline {

enum class Split : std::uint8_t { train, val, test };

struct SplitInput {
    double lon = 0, lat = 0;   // box centre, degrees
    std::uint64_t object = 0;  // object_key(osm_type, osm_id)
};

struct SplitAssignment {
    std::vector<Split> split;             // one per input, in input order
    std::int64_t count[3] = {0, 0, 0};    // train, val, test
    std::int64_t blocks = 0, groups = 0;
    std::int64_t asked_val = 0, asked_test = 0;
    double block_deg = 0;                 // the block side used
};

// `spec`: a count, a percentage ("2%") or "auto"; `option` names it in errors.
std::int64_t split_size(const std::string& spec, std::int64_t images, std::int64_t skyscript_size, double auto_share,
                        const std::string& option);

SplitAssignment assign_splits(const std::vector<SplitInput>& images, double block_deg, std::uint64_t seed, std::int64_t val_size,
                              std::int64_t test_size);

// --split-block auto: SkyScript's 0.05 degrees for a build spread wide; for a small one (a city
// falls in a handful of such blocks, and val or test would get none, or one block larger than
// asked) the block is halved until val and test each hold half to all of their asked size,
// down to 0.001 degrees (about 100 m). Deterministic: the images, the seed and the sizes decide it.
SplitAssignment assign_splits_auto(const std::vector<SplitInput>& images, std::uint64_t seed, std::int64_t val_size, std::int64_t test_size);

} // namespace skyscript::pipeline
