#include "pipeline/cli/open_build_session.hpp"

#include "imagery/http_engine.hpp"
#include "imagery/sources/gdal/gdal_source.hpp"

#include "pipeline/catalog/catalog_identity.hpp"
#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/absolute_path.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/build_sources.hpp"
#include "pipeline/common/input_fingerprint.hpp"
#include "pipeline/common/shard_spec.hpp"
#include "pipeline/common/stage_names.hpp"
#include "pipeline/common/text_file.hpp"
#include "pipeline/polish/polish_options.hpp"
#include "pipeline/state/state_reader.hpp"
#include "pipeline/state/foreign_folder.hpp"
#include "pipeline/split/split_stage.hpp"
#include "pipeline/split/split_options.hpp"
#include "pipeline/plan/plan_options.hpp"

#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// The latest stage that has left work in OUT ("" for none).
std::string stage_with_work(StateDb& state) {
    const auto counts = state.count_by_status();
    if (counts.at("written") > 0) return "write";
    if (counts.at("fetched") + counts.at("failed") > 0) return "fetch";
    if (state.stage_finished("plan")) return "plan";
    if (state.stage_finished("extract")) return "extract";
    return "";
}

// Refuses a catalog that is not the one OUT was planned from (catalog_identity.hpp): every stage
// after the plan would mix the two. A missing catalog is left to the stages that need it; a
// build planned before identities were recorded is not checked.
void check_catalog_unchanged(BuildSession& s) {
    if (!s.state->stage_finished("plan") || !fs::exists(s.catalog_path())) return;
    const auto planned_from = s.state->catalog_identity();
    if (!planned_from.empty()) check_same_catalog(planned_from, CatalogReader(s.catalog_path()).meta(), s.out_dir, s.catalog_path(), s.state->path());
}

// The input given now against the one OUT was built from, when both have a fingerprint
// (input_fingerprint.hpp): the same bytes under another path is the same input, moved or
// renamed, and `stored` takes its new path (recorded, so an extract resumes from it); other
// bytes under the same path are refused here, in words. Other differences are left to
// changed_option.
void accept_moved_input(std::map<std::string, std::string>& stored, const BuildSession& s, const std::string& now_digest) {
    const auto get = [&](const char* key) { return stored.count(key) ? stored.at(key) : std::string(); };
    const auto before = get("input"), before_digest = get("input-digest"), now = s.options.text("input");
    // The digest of the file given now, not the options' (OUT's, when none was made): a path
    // that is not a readable file now is no input moved there.
    if (before.empty() || before_digest.empty() || now_digest.empty()) return;
    const bool same_bytes = before_digest == now_digest; // the size is part of it
    if (same_bytes && before != now) {
        if (!s.options.flag("quiet")) std::fprintf(stderr, "skyscript-build: %s moved to %s (the same bytes): going on\n", before.c_str(), now.c_str());
        stored["input"] = now;
    } else if (!same_bytes && before == now) {
        throw std::runtime_error(s.out_dir + ": " + now + " is not the file OUT was built from (" + get("input-bytes") + " bytes then, " +
                                 s.options.text("input-bytes") + " now; its first and last MiB compared), which would mix two datasets in one "
                                 "folder; use another -o, or remove " + s.state->path() + " to start over");
    }
}

// A catalog made by the `extract` subcommand alone, planned with `plan OUT`: the build's input
// is the one the catalog was read from (its meta), recorded as if given. Its dataset card and
// report named no input ("pairs from ''", a date of 1970), and a later bare command given that
// same file was refused as asking --input where OUT "was built with none". The same path and
// size as the catalog's is taken for the same file (the extract records no digest).
void adopt_catalog_input(std::map<std::string, std::string>& stored, const BuildSession& s, const std::string& input, const std::string& now_digest) {
    const auto get = [&](const char* key) { return stored.count(key) ? stored.at(key) : std::string(); };
    std::error_code ec;
    if (get("input").empty() && fs::exists(s.catalog_path(), ec)) {
        std::map<std::string, std::string> meta;
        try {
            meta = CatalogReader(s.catalog_path()).meta();
        } catch (const std::exception&) { // not a catalog: the stages that read it say so
        }
        if (meta.count("input") && !meta.at("input").empty()) {
            stored["input"] = meta.at("input");
            stored["input-bytes"] = meta.count("input_bytes") ? meta.at("input_bytes") : std::string();
        }
    }
    if (get("input-digest").empty() && !input.empty() && !get("input").empty() && absolute_path(input) == get("input") && !get("input-bytes").empty() &&
        s.options.text("input-bytes") == get("input-bytes"))
        stored["input-digest"] = now_digest;
}

} // namespace

BuildSession open_build_session(const CliArgs& cli, const std::string& out_dir, const std::string& input, std::string_view stage) {
    BuildSession s;
    s.out_dir = out_dir;
    const auto state_path = BuildDir(out_dir).state_db();
    if (input.empty() && !fs::exists(state_path)) {
        if (!fs::exists(BuildDir(out_dir).catalog()) || fs::exists(BuildDir(out_dir).merging_state_db()))
            throw std::runtime_error(no_state_db_here(out_dir, ", no catalog.gpkg"));
        // A stage after the plan has no jobs to work on: a state DB made here would be an empty
        // build's, which `report` would then describe (0 pairs) beside the images on disk.
        if (stage_rank(stage) > stage_rank("plan")) // as the stages say when state.sqlite has no plan
            throw std::runtime_error(out_dir + ": not planned yet; run `skyscript-build plan " + out_dir + "` first");
    }
    std::error_code ec;
    s.options.merge_cli(cli); // a mistyped option is refused before OUT is made
    if (auto config = cli.value("config")) s.options.merge_toml_file(*config);
    // The extract's files as given to this run (not as OUT recorded them): a rerun that names
    // them again is compared with the catalog they made.
    const auto hidden_given = s.options.has("hidden") ? s.options.text("hidden") : std::string();
    const auto polygon_given = s.options.has("polygon") ? s.options.text("polygon") : std::string();
    // A pipe or a device as INPUT, refused before OUT is made: the extract reads it twice. (A
    // missing one is the extract's to refuse: a finished build's later stages need no input.)
    if (!input.empty() && fs::exists(input, ec) && !fs::is_directory(input, ec))
        if (const auto problem = file_problem(input); !problem.empty()) throw std::runtime_error(input + ": " + problem);
    // A missing one for a new build (no state DB, no catalog in OUT, none given): refused
    // before OUT is made, which it was left holding a lock and an empty state DB. (A build's
    // own folder says more: what is missing and why the input is needed.)
    if (!input.empty() && !fs::exists(input, ec) && !fs::exists(state_path, ec) && !fs::exists(BuildDir(out_dir).catalog(), ec) &&
        s.options.text("catalog").empty())
        throw std::runtime_error(input + ": no such file");
    const auto input_digest = input.empty() ? std::string() : input_fingerprint(input);
    if (!input.empty()) {
        s.options.set("input", absolute_path(input), "command line");
        if (fs::is_regular_file(input, ec)) s.options.set("input-bytes", std::to_string(fs::file_size(input, ec)), "command line");
        if (!input_digest.empty()) s.options.set("input-digest", input_digest, "command line");
    }
    // An earlier build's folder given this run, named before the extract and plan (the fetch
    // reads it; one gone once the fetch is done does not stop the later stages).
    for (const auto& old : cli.values("reuse"))
        if (!fs::is_regular_file(BuildDir(old).state_db(), ec))
            throw std::runtime_error(old + ": --reuse needs an earlier build's folder (no state.sqlite there)");
    refuse_foreign_folder(out_dir);
    s.lock = std::make_unique<BuildLock>(out_dir, command_line()); // creates OUT; before anything is written there
    // A run refused from here on (an option's value, a scores file) has recorded nothing: a
    // state DB it made goes, and with it an OUT it made (the lock removes an OUT holding only
    // itself). A mistyped --val-size left a build of nothing, which status and merge took for one.
    struct ForgetMadeState {
        BuildSession& s;
        const std::string& path;
        bool armed;
        ~ForgetMadeState() {
            if (!armed) return;
            s.state.reset();
            std::error_code ignored;
            for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ignored);
        }
    } forget_made_state{s, state_path, !fs::exists(fs::symlink_status(state_path, ec))}; // a link there is not ours to remove
    s.state = std::make_unique<StateDb>(state_path, true);
    // A merge of some shards only (--partial) records no plan: its jobs are the shards' plans.
    // A plan here replaced them all, written ones too (red-team round 41: an error message had
    // sent the user to do so), and the bare command first read the whole input again.
    if ((stage.empty() || stage == "plan") && s.state->stage_finished("merge") && !s.state->stage_finished("plan"))
        throw std::runtime_error(out_dir + ": holds a merge of shards' plans (--partial): planning here would replace its jobs; run the missing "
                                 "shards' workers and merge again");
    auto stored = s.state->options();
    // Options that no finished stage was made with are no build's yet: a run killed before its
    // first stage finished (a --bbox refused only at the end of hours of reading a planet) left
    // them, and the next run without the flag took it and was refused for it (code review of
    // round 31). This run's own stand, as if OUT were new.
    if (!s.state->any_stage_finished()) stored.clear();
    adopt_catalog_input(stored, s, input, input_digest);
    s.options.merge_stored(stored, state_path);
    // GDAL's HTTP as the run's --timeout and --attempts say from the start: a raster over HTTP is
    // opened before the fetch makes its image sources (the plan and the fetch look at its
    // footprint), and GDAL's default of no retry there let one 503 stop the build (red-team round 42).
    imagery::set_gdal_http_defaults(s.options.number("timeout"), imagery::HttpEngineOptions{}.connect_timeout_s, static_cast<int>(s.options.integer("attempts")));
    // A catalog made by the `extract` subcommand alone: plan with the tag list it used.
    if (!stored.count("tags") && !s.options.has("tags") && fs::exists(s.catalog_path())) {
        const auto meta = CatalogReader(s.catalog_path()).meta();
        if (auto it = meta.find("tags"); it != meta.end() && it->second != "default") s.options.set("tags", it->second, s.catalog_path());
    }
    resolve_shard_option(s.options); // OUT records "i/N", never "auto"
    if (const auto done = stage_with_work(*s.state); !done.empty()) {
        accept_moved_input(stored, s, input_digest);
        if (auto changed = changed_option(stored, s.options.recorded(), done))
            throw std::runtime_error(out_dir + ": this run asks " + *changed + ", which would mix two datasets in one folder; use another -o, or remove " +
                                     state_path + " to start over");
    }
    if (!stage.empty() && stage != "split" && s.state->stage_finished("split")) // any stage that does not remake the CSVs
        if (auto changed = changed_option(stored, s.options.recorded(), "split", true))
            throw std::runtime_error(out_dir + ": this run asks " + *changed + ", but the CSVs were split without it; run `skyscript-build split " +
                                     out_dir + "` with it first (it makes the CSVs again), then " + std::string(stage));
    check_catalog_unchanged(s);
    if ((!hidden_given.empty() || !polygon_given.empty()) && s.state->stage_finished("extract") && fs::exists(s.catalog_path()))
        check_extract_files_unchanged(CatalogReader(s.catalog_path()).meta(), s.catalog_path(), hidden_given, polygon_given);
    try {
        check_split_options(s.options); // before OUT records a bad value
    } catch (const UsageError& e) { // named by the config file's line when it came from one (red-team round 37)
        throw UsageError(s.options.with_origin(e.what()));
    }
    // What the plan takes of the options and the sources file, checked before anything runs
    // (red-team round 35: --min-px over --max-px, --min-visible-px 64, or a typo in the sources
    // file, refused only after the whole extract, hours on a planet, and the bad value
    // recorded, which refused the corrected rerun). The sources as written: opening them
    // (rasters, servers) is the plan's.
    if ((stage.empty() || stage == "plan") && !s.state->stage_finished("plan")) { // a finished plan has nothing to do with them
        try {
            (void)plan_options(s.options);
        } catch (const UsageError& e) {
            throw UsageError(s.options.with_origin(e.what()));
        }
        (void)configured_sources(s.options.text("sources"));
    }
    // A scores file given anew is read whole, and matched to the images already written: one
    // the split would refuse is not recorded (a recorded one was read when given; a planet's
    // is millions of rows).
    if (const auto scores = s.options.text("scores"); !scores.empty() && (!stored.count("scores") || stored.at("scores") != scores))
        check_new_scores(s.options, *s.state);
    if (s.options.flag("polish")) polish_options(s.options); // and before a build that cannot polish extracts, plans and fetches
    // A split about to make the CSVs again with other options: until it finishes they are not
    // its CSVs, and a stage that reads the split (benchmarks) must not take the new options for
    // the files on disk (a split killed or failing before its renames left them recorded).
    if ((stage == "split" || stage.empty()) && s.state->stage_finished("split") && changed_option(stored, s.options.recorded(), "split", true)) {
        s.split_forgotten = s.state->stage_record("split");
        s.state->unfinish_stage("split");
    }
    s.options_before = stored;
    s.state_made = forget_made_state.armed;
    s.state->store_options(s.options.recorded());
    forget_made_state.armed = false;
    s.quiet = s.options.flag("quiet");
    return s;
}

} // namespace skyscript::pipeline
