#pragma once
// Facts about this process and machine used in summaries and pre-flight checks.

#include <cstdint>
#include <string>

namespace skyscript::pipeline {

std::uint64_t peak_rss_bytes();
// The cores this process may use: those it may run on (its CPU affinity: taskset, a Slurm or
// container cpuset), fewer when its cgroup's CPU quota allows less (cgroup_cpu_limit.hpp,
// rounded up); what "0: one per core" means for --threads and --workers. The machine's count if unknown.
int usable_cores();
std::uint64_t available_memory_bytes(); // MemAvailable, or 0 if unknown
std::uint64_t free_disk_bytes(const std::string& dir);
std::string human_bytes(std::uint64_t bytes);

} // namespace skyscript::pipeline
