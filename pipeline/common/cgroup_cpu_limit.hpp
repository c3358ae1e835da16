#pragma once
// The CPU time a process's control group allows it, in cores: a container started with
// `docker run --cpus 4`, a Kubernetes CPU limit or a systemd CPUQuota= runs on every core of
// the machine (its affinity says so) but gets only that much of them; more threads than that
// only take turns. Read as the kernel documents it: the cgroup's place in /proc/self/cgroup,
// where its hierarchy is mounted in /proc/self/mountinfo, and the limit of the cgroup and
// each one above it up to the mount (the smallest holds): cgroup v2's cpu.max ("max" or
// "QUOTA PERIOD"), cgroup v1's cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us.

#include <optional>
#include <string>

namespace skyscript::pipeline {

// The limit in cores (2.5 for a quota of 250 ms every 100 ms); nothing when there is none or
// it cannot be read. The two files are /proc/self/mountinfo and /proc/self/cgroup, or
// stand-ins for them in tests.
std::optional<double> cgroup_cpu_limit(const std::string& mountinfo = "/proc/self/mountinfo", const std::string& cgroup = "/proc/self/cgroup");

} // namespace skyscript::pipeline
