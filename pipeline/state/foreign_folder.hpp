#pragma once
// The guard every command that writes into an OUT folder passes first (the build's stages,
// merge): a folder that holds what a build writes (images1/, README.md, SkyScript_*.csv: an
// original SkyScript download, someone's photos) but was never a build's is refused before
// anything is written there, as is one whose state.sqlite is some other program's database.

#include <string>

namespace skyscript::pipeline {

// Throws a one-line error naming the folder (or its state.sqlite) unless OUT is new, empty of
// build outputs, or a build's own: its build.lock (a build's folder whose state DB was removed
// to start over keeps it), or a state.sqlite with a jobs table.
void refuse_foreign_folder(const std::string& out_dir);

} // namespace skyscript::pipeline
