#pragma once
// `--scores FILE[,NAME]`: `filepath,score` rows from any external scorer (e.g. the CLIP
// similarity of an image and its title; tools/clip_scores.py makes one with OpenCLIP).
// A header row (first field `filepath`) is skipped; filepath is relative to OUT as in the
// CSVs ("./" in front is allowed); score is a finite number, kept as written so the
// similarity column repeats it exactly. NAME (default: FILE's name without extension)
// names the output files and the column `similarity_NAME`.

#include <string>
#include <unordered_map>
#include <vector>

namespace skyscript::pipeline {

struct Score {
    double value = 0;
    std::string text;
    bool used = false; // names a written image
};

struct ScoreFile {
    std::string path, name;
    std::unordered_map<std::string, Score> by_filepath;
};

// Throws naming FILE:LINE for a malformed row, a repeated filepath, a bad NAME; naming FILE
// when it has no rows.
ScoreFile read_score_file(const std::string& spec);

class StateDb;
// Each written image's score (null: none), in job order, marking the rows used. Throws naming
// the file when it names none of the build's images (another build's, or paths not relative
// to OUT): its scored files would be empty, silently.
std::vector<const Score*> scores_of_written(ScoreFile& scores, StateDb& state);

} // namespace skyscript::pipeline
