#pragma once
// A build's output folder as the stages see it: its state DB and the options in force
// (flags > --config TOML > what OUT recorded > defaults). Opening it refuses, with one
// line, a run whose options would change work OUT has already done (a different seed,
// tag list, source list, ... would mix two datasets in one folder), and records the
// options this run uses.

#include "build_lock.hpp"
#include "build_options.hpp"
#include "state_db.hpp"

#include <memory>
#include <string>

namespace skyscript::pipeline {

struct BuildSession {
    std::unique_ptr<BuildLock> lock; // held while the session lives: one build per OUT
    std::string out_dir;
    BuildOptions options;
    std::unique_ptr<StateDb> state;
    bool quiet = false;
    bool outputs_checked = false; // OUT's files against the state DB, once a run (disk_check.hpp)

    std::string catalog_path() const;
};

// `input`: the bare command's INPUT.osm.pbf ("" for a stage subcommand on OUT, which
// must already exist with its state DB).
BuildSession open_build_session(const CliArgs& cli, const std::string& out_dir, const std::string& input);

} // namespace skyscript::pipeline
