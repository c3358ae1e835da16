#include "disk_check.hpp"

#include "dataset_layout.hpp"

#include <sys/stat.h>

#include <vector>

namespace skyscript::pipeline {

namespace {

// A regular file with bytes in it: an empty file is no image or pickle either.
bool present(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

} // namespace

MissingOutputs restore_missing_outputs(const std::string& out_dir, StateDb& state) {
    std::vector<std::int64_t> refetch, rewrite;
    const std::string root = out_dir + "/";
    state.for_each_with_files([&](std::int64_t id, JobStatus status, int part, const std::string& stem) {
        if (stem.empty() || !present(root + image_relative_path(part, stem))) refetch.push_back(id);
        else if (status == JobStatus::written && !present(root + meta_relative_path(part, stem))) rewrite.push_back(id);
    });
    if (!refetch.empty()) state.set_status(refetch, JobStatus::planned);
    if (!rewrite.empty()) state.set_status(rewrite, JobStatus::fetched);
    return {static_cast<std::int64_t>(refetch.size()), static_cast<std::int64_t>(rewrite.size())};
}

} // namespace skyscript::pipeline
