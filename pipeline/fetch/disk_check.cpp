#include "pipeline/fetch/disk_check.hpp"

#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/state/build_session.hpp"


#include <vector>

namespace skyscript::pipeline {


MissingOutputs restore_missing_outputs(const std::string& out_dir, StateDb& state) {
    std::vector<std::int64_t> refetch, rewrite;
    const BuildDir dir(out_dir);
    state.for_each_with_files([&](const JobFiles& f) {
        if (f.stem.empty() || !placed_size(dir.image(f.part, f.stem), f.image_bytes)) refetch.push_back(f.job_id);
        else if (f.status == JobStatus::written && !placed_size(dir.meta(f.part, f.stem), f.meta_bytes)) rewrite.push_back(f.job_id);
    });
    if (!refetch.empty()) state.set_status(refetch, JobStatus::planned);
    if (!rewrite.empty()) state.set_status(rewrite, JobStatus::fetched);
    return {static_cast<std::int64_t>(refetch.size()), static_cast<std::int64_t>(rewrite.size())};
}

// Resume trusts the disk: before the first of fetch and write in a run (not again before the
// second: one stat per finished job is enough), finished jobs whose files are gone go back.
void restore_outputs_once(BuildSession& s, const char* stage) {
    if (s.outputs_checked) return;
    s.outputs_checked = true;
    const auto m = restore_missing_outputs(s.out_dir, *s.state);
    if (m.images == 0 && m.meta == 0) return;
    // What this run makes again is a summary (-q hides it); what it leaves out of the
    // dataset until another stage runs is a warning, on stderr whatever -q says.
    if (std::string_view(stage) == "fetch") {
        if (!s.quiet)
            std::printf("%s: %lld images and %lld meta files of finished jobs were missing on disk (or not the size they were written at): made again\n", stage,
                        static_cast<long long>(m.images), static_cast<long long>(m.meta));
    } else {
        if (m.images)
            std::fprintf(stderr, "%s: %lld images of finished jobs are missing on disk (or not the size they were written at): run fetch (or the build again) to fetch them again\n",
                        stage, static_cast<long long>(m.images));
        if (m.meta && std::string_view(stage) == "write" && !s.quiet)
            std::printf("%s: %lld meta files of finished jobs were missing on disk (or not the size they were written at): written again\n", stage,
                        static_cast<long long>(m.meta));
        else if (m.meta && std::string_view(stage) != "write")
            std::fprintf(stderr, "%s: %lld meta files of finished jobs are missing on disk (or not the size they were written at): run write (or the build "
                        "again) to write them again\n",
                        stage, static_cast<long long>(m.meta));
    }
}

} // namespace skyscript::pipeline
