// The cores a run takes when not told (--threads 0, --workers 0): those this process may use,
// not the machine's (issue 25: speed that grows with the machine, and keeps to its share of it).

#include "imagery/image_source.hpp"
#include "osm/decoder_threads.hpp"
#include "pipeline/common/cgroup_cpu_limit.hpp"
#include "pipeline/common/system_info.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

using namespace skyscript::test;
using skyscript::pipeline::cgroup_cpu_limit;
namespace fs = std::filesystem;

namespace {

// A stand-in cgroup tree under `dir`: files written as given (path relative to dir -> content).
void tree(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
    for (const auto& [path, content] : files) {
        fs::create_directories(fs::path(dir + "/" + path).parent_path());
        write_file(dir + "/" + path, content);
    }
}

std::string mount_line(const std::string& root, const std::string& point, const std::string& fstype, const std::string& super) {
    return "35 24 0:30 " + root + " " + point + " rw,nosuid,nodev,noexec,relatime shared:9 - " + fstype + " cgroup " + super + "\n";
}

} // namespace

TEST_CASE("cgroup_cpu_limit: cgroup v1 and v2 quotas, nested, in a container's view, or none") {
    const auto dir = fresh_dir("cgroup-stand-in");
    const auto cpu_v1 = dir + "/v1/cpu,cpuacct";

    SUBCASE("v1: the smallest quota of the cgroup and those above it; -1 is none") {
        tree(dir, {{"v1/cpu,cpuacct/slurm/cpu.cfs_quota_us", "300000\n"},
                   {"v1/cpu,cpuacct/slurm/cpu.cfs_period_us", "100000\n"},
                   {"v1/cpu,cpuacct/slurm/job_7/cpu.cfs_quota_us", "150000\n"},
                   {"v1/cpu,cpuacct/slurm/job_7/cpu.cfs_period_us", "100000\n"},
                   {"v1/cpu,cpuacct/slurm/job_8/cpu.cfs_quota_us", "-1\n"},
                   {"v1/cpu,cpuacct/slurm/job_8/cpu.cfs_period_us", "100000\n"},
                   {"v1/cpu,cpuacct/cpu.cfs_quota_us", "-1\n"},
                   {"v1/cpu,cpuacct/cpu.cfs_period_us", "100000\n"}});
        write_file(dir + "/mountinfo", mount_line("/", dir + "/v1/memory", "cgroup", "rw,memory") +
                                           mount_line("/", cpu_v1, "cgroup", "rw,cpu,cpuacct") +
                                           mount_line("/", dir + "/unified", "cgroup2", "rw"));
        write_file(dir + "/cgroup", "4:memory:/slurm/job_7\n3:cpu,cpuacct:/slurm/job_7\n0::/\n");
        CHECK(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup") == doctest::Approx(1.5));
        write_file(dir + "/cgroup", "3:cpu,cpuacct:/slurm/job_8\n0::/\n"); // none of its own: its parent's
        CHECK(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup") == doctest::Approx(3));
        write_file(dir + "/cgroup", "3:cpu,cpuacct:/\n0::/\n");
        CHECK_FALSE(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup"));
    }
    SUBCASE("v2: cpu.max QUOTA PERIOD, or max") {
        tree(dir, {{"cg2/user.slice/cpu.max", "max 100000\n"}, {"cg2/user.slice/app.service/cpu.max", "250000 100000\n"},
                   {"cg2/user.slice/other.service/cpu.max", "max 100000\n"}});
        write_file(dir + "/mountinfo", mount_line("/", dir + "/cg2", "cgroup2", "rw,nsdelegate"));
        write_file(dir + "/cgroup", "0::/user.slice/app.service\n");
        CHECK(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup") == doctest::Approx(2.5));
        write_file(dir + "/cgroup", "0::/user.slice/other.service\n");
        CHECK_FALSE(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup"));
    }
    SUBCASE("a container's view: its own cgroup mounted as the root, its path the host's or /") {
        tree(dir, {{"in container/cpu.max", "200000 100000\n"}});
        // mountinfo escapes the space in the mount point as \040.
        write_file(dir + "/mountinfo", mount_line("/docker/abc", dir + "/in\\040container", "cgroup2", "rw"));
        write_file(dir + "/cgroup", "0::/docker/abc\n");
        CHECK(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup") == doctest::Approx(2));
        write_file(dir + "/cgroup", "0::/\n"); // a cgroup namespace: not under the mount's root, so the mount itself
        CHECK(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup") == doctest::Approx(2));
    }
    SUBCASE("no cgroup files, no cpu hierarchy mounted, unreadable limits: none") {
        CHECK_FALSE(cgroup_cpu_limit(dir + "/missing", dir + "/missing"));
        write_file(dir + "/mountinfo", mount_line("/", dir + "/v1/memory", "cgroup", "rw,memory"));
        write_file(dir + "/cgroup", "3:cpu,cpuacct:/x\n4:memory:/x\n");
        CHECK_FALSE(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup"));
        tree(dir, {{"cg2/x/cpu.max", "lots 100000\n"}});
        write_file(dir + "/mountinfo", mount_line("/", dir + "/cg2", "cgroup2", "rw"));
        write_file(dir + "/cgroup", "0::/x\n");
        CHECK_FALSE(cgroup_cpu_limit(dir + "/mountinfo", dir + "/cgroup"));
    }
}

TEST_CASE("the default thread counts follow the cores given, not the machine's") {
    using namespace skyscript;
    CHECK(imagery::image_workers(0, 3) == 3);
    CHECK(imagery::image_workers(5, 3) == 5); // asked: as asked
    CHECK(imagery::network_image_workers(0, 3) == 2); // one core left to the HTTP engine
    CHECK(imagery::network_image_workers(0, 1) == 1);
    CHECK(osm::decoder_threads(16) == 14); // osmium's rule, on the cores given
    CHECK(osm::decoder_threads(2) == 1);
    CHECK(osm::decoder_threads(1) == 1);
    // 0: the machine's, for a caller that does not count (the library's own default).
    CHECK(imagery::image_workers(0, 0) == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

namespace {

// Where the cpu controller's hierarchy is mounted on this machine, and whether it is cgroup v2.
std::pair<std::string, bool> cpu_hierarchy_mount() {
    std::ifstream in("/proc/self/mountinfo");
    std::string v2;
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string id, parent, dev, root, point, options, x, fstype, source, super;
        f >> id >> parent >> dev >> root >> point >> options;
        while (f >> x && x != "-") {}
        f >> fstype >> source >> super;
        if (fstype == "cgroup" && ("," + super + ",").find(",cpu,") != std::string::npos) return {point, false};
        if (fstype == "cgroup2" && v2.empty()) v2 = point;
    }
    return {v2, true};
}

// The plan's summary line ("plan: ... N threads, ...").
std::string plan_line(const std::string& out) {
    for (const auto& l : lines(out))
        if (l.rfind("plan: ", 0) == 0 && l.find(" jobs from ") != std::string::npos) return l;
    return "";
}

} // namespace

TEST_CASE("a run in a cgroup with a CPU quota of one core plans on one thread; under taskset too") {
    const auto dir = fresh_dir("usable-cores");
    write_file(dir + "/sources.toml", "[[source]]\nalias = \"ANY\"\nkind = \"xyz\"\nurl = \"http://127.0.0.1:9/{z}/{x}/{y}.png\"\ngsd = 0.5\nyear = 2020\n");
    REQUIRE(run(sh_quote(binary()) + " extract -q " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(dir + "/built")).exit_code == 0);
    auto plan = [&](const std::string& prefix, const std::string& name) {
        const auto out = dir + "/" + name;
        fs::copy(dir + "/built", out, fs::copy_options::recursive);
        const auto r = run(prefix + "timeout 300 " + sh_quote(binary()) + " plan " + sh_quote(out) + " --sources " + sh_quote(dir + "/sources.toml"));
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return plan_line(r.out);
    };
    const int cores = skyscript::pipeline::usable_cores();
    REQUIRE_MESSAGE(cores >= 2, "the machine must have 2 cores or more for a one-core share to differ from it");
    std::string all_threads = " "; // appended, not `" " + string`: GCC 12 warns (-Wrestrict) on that here, wrongly
    all_threads += std::to_string(cores) + " threads,";
    CHECK(plan("", "all").find(all_threads) != std::string::npos);
    CHECK(plan("taskset -c 0 ", "taskset").find(" 1 thread,") != std::string::npos);

    // A real cgroup of its own (the test runs as root, as `make test` does), with a quota of one
    // core every period: the plan runs in it, and the cgroup goes when it is done.
    const auto [mount, v2] = cpu_hierarchy_mount();
    REQUIRE_MESSAGE(!mount.empty(), "no cpu cgroup hierarchy mounted");
    const auto group = mount + "/skyscript-test-" + std::to_string(::getpid());
    if (v2 && read_file(mount + "/cgroup.subtree_control").find("cpu") == std::string::npos)
        write_file(mount + "/cgroup.subtree_control", "+cpu");
    REQUIRE_MESSAGE(fs::create_directory(group), group);
    struct Remove {
        std::string group;
        ~Remove() { ::rmdir(group.c_str()); }
    } remove{group};
    // The plan's line with QUOTA microseconds every PERIOD: the shell moves itself into the
    // cgroup, then becomes the plan.
    const auto plan_with_quota = [&](const std::string& quota, const std::string& period, const std::string& name) {
        if (v2) {
            write_file(group + "/cpu.max", quota + " " + period);
        } else {
            write_file(group + "/cpu.cfs_period_us", period);
            write_file(group + "/cpu.cfs_quota_us", quota);
        }
        return plan("sh -c 'echo $$ > " + group + "/cgroup.procs && exec \"$0\" \"$@\"' ", name);
    };
    const auto line = plan_with_quota("100000", "100000", "quota");
    CAPTURE(line);
    CHECK(line.find(" 1 thread,") != std::string::npos);
    // The kernel's largest quota over its shortest period: 1.8e10 cores, more than an int holds
    // (the cast was undefined, and ran the plan on one thread): every core the process has.
    const auto huge = plan_with_quota("17592186044415", "1000", "huge-quota");
    CAPTURE(huge);
    CHECK(huge.find(all_threads) != std::string::npos);
}
