#pragma once
// The split stage (`split OUT`, the bare command's last step), from the state DB alone so
// its files always agree with it and a rerun gives the same bytes. It assigns each written
// image its split and scores, and hands it to each output format --format picks
// (pipeline/dataset/sample_formats.hpp); an earlier run's files of the other formats go:
//
// --format files (default) or both: SkyScript_train_unfiltered.csv, SkyScript_val.csv,
//   SkyScript_test.csv (header filepath,title,title_multi_objects, + the fields of the other
//   caption style, e.g. --caption-style natural's); every written image in exactly one of them. With
//   --scores FILE[,NAME]: SkyScript_train_top{P}pct_filtered_by_NAME.csv for each P of
//   --top-pct (the P% best-scored train images, ties in job order), and
//   SkyScript_val_filtered_by_NAME.csv / SkyScript_test_filtered_by_NAME.csv (the val/test
//   images scoring at least the first P's threshold), each with the column
//   similarity_NAME. Score rows naming no written image, and images with no score, are
//   counted in the summary and left out of the scored files; a file naming no image, or no
//   image of the training split, is refused.
// --format webdataset or both: OUT/webdataset/{train,val,test}/{shard:05d}.tar with
//   sizes.json (dataset/webdataset_writer.hpp), about --shard-size samples ("10000") or bytes
//   ("500MB", "2GB") a shard.
// --format coco: the files' CSVs and OUT/annotations_{train,val,test}.json, COCO-style boxes,
//   polygons and captions of the objects each caption names (dataset/coco_sample_writer.cpp).
// Other SkyScript_*.csv files in OUT (an earlier run's scores) are removed.

#include "pipeline/split/split_assignment.hpp"
#include "pipeline/state/build_session.hpp"

#include <string>
#include <vector>

namespace skyscript::pipeline {

struct Score; // split/score_file.hpp

// The split of every written job, in job order (what `benchmarks` also uses).
SplitAssignment split_written_jobs(const BuildOptions& options, StateDb& state);
// The scored images of the training split (indexes into `split`), best first, ties in job
// order; throws naming the scores file when it scores images of the build but none of them.
std::vector<std::size_t> ranked_training_images(const std::vector<Split>& split, const std::vector<const Score*>& score_of,
                                                const std::string& scores_path);
// --scores given anew, read whole and matched as the split will: what it would refuse is
// refused before OUT records the option.
void check_new_scores(const BuildOptions& options, StateDb& state);

struct SplitSummary {
    SplitAssignment assignment;
    std::string block_text; // --split-block as given, or the block auto chose
    bool block_auto = false;
    std::string scores_name;
    std::int64_t score_rows = 0, scores_unknown = 0, images_unscored = 0;
    std::vector<std::pair<std::string, std::int64_t>> files; // written file -> rows
    std::int64_t shards = 0;
    double seconds = 0;
};

SplitSummary run_split(const std::string& out_dir, const BuildOptions& options, StateDb& state, bool quiet);
void print_split_summary(const SplitSummary& s, const std::string& out_dir);
// run_split on a session; its count is the images in the three splits.
StageSummary stage_split(BuildSession& s);

} // namespace skyscript::pipeline
