#include "pipeline/common/cgroup_cpu_limit.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace skyscript::pipeline {

namespace {

// mountinfo writes a space in a path as \040 (octal escapes, proc(5)).
std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto octal = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
        if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool has_token(const std::string& list, const std::string& token) {
    std::stringstream in(list);
    for (std::string t; std::getline(in, t, ',');)
        if (t == token) return true;
    return false;
}

struct Hierarchy {
    std::string mount_root, mount_point, path; // path: the process's cgroup in it
    bool v2 = false;
};

// The hierarchy that holds the cpu controller: v1's "cpu" if one is mounted, else the v2 one.
std::optional<Hierarchy> cpu_hierarchy(const std::string& mountinfo, const std::string& cgroup) {
    std::string v1_path, v2_path;
    bool v1 = false, v2 = false;
    std::ifstream groups(cgroup);
    for (std::string line; std::getline(groups, line);) {
        const auto a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        const auto controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (line.compare(0, a, "0") == 0 && controllers.empty()) v2 = true, v2_path = path;
        else if (has_token(controllers, "cpu")) v1 = true, v1_path = path;
    }
    if (!v1 && !v2) return std::nullopt;
    std::ifstream mounts(mountinfo);
    std::optional<Hierarchy> v2_mount;
    for (std::string line; std::getline(mounts, line);) {
        // id parent major:minor root mount_point options [optional fields] - fstype source super_options
        std::istringstream fields(line);
        std::string id, parent, dev, root, point, options, f;
        if (!(fields >> id >> parent >> dev >> root >> point >> options)) continue;
        while (fields >> f && f != "-") {}
        std::string fstype, source, super;
        if (!(fields >> fstype >> source)) continue;
        fields >> super;
        if (v1 && fstype == "cgroup" && has_token(super, "cpu")) return Hierarchy{unescape(root), unescape(point), v1_path, false};
        if (v2 && fstype == "cgroup2" && !v2_mount) v2_mount = Hierarchy{unescape(root), unescape(point), v2_path, true};
    }
    return v1 ? std::nullopt : v2_mount; // a v1 cpu controller not mounted: none to read
}

std::optional<double> limit_in(const std::string& dir, bool v2) {
    std::ifstream in(dir + (v2 ? "/cpu.max" : "/cpu.cfs_quota_us"));
    std::string quota;
    double period = 0;
    if (!(in >> quota)) return std::nullopt;
    if (v2) {
        if (quota == "max" || !(in >> period)) return std::nullopt;
    } else {
        std::ifstream p(dir + "/cpu.cfs_period_us");
        if (!(p >> period)) return std::nullopt;
    }
    try {
        const double q = std::stod(quota);
        if (q > 0 && period > 0) return q / period; // v1 says -1 for none
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

} // namespace

std::optional<double> cgroup_cpu_limit(const std::string& mountinfo, const std::string& cgroup) {
    const auto h = cpu_hierarchy(mountinfo, cgroup);
    if (!h) return std::nullopt;
    // The cgroup's folder under the mount: its path less the mount's root (a container sees its
    // own cgroup as the mount's root, and its path as "/" or as the host's full path).
    std::string relative = h->path;
    if (h->mount_root != "/") {
        if (relative.compare(0, h->mount_root.size(), h->mount_root) == 0 &&
            (relative.size() == h->mount_root.size() || relative[h->mount_root.size()] == '/'))
            relative = relative.substr(h->mount_root.size());
        else
            relative.assign(1, '/'); // assign, not = "/": GCC 12 warns (-Wrestrict) on that here, wrongly
    }
    std::optional<double> smallest;
    for (;;) { // the cgroup, then each one above it
        while (relative.size() > 1 && relative.back() == '/') relative.pop_back();
        if (const auto l = limit_in(h->mount_point + (relative == "/" ? "" : relative), h->v2)) smallest = std::min(smallest.value_or(*l), *l);
        if (relative.empty() || relative == "/") break;
        const auto slash = relative.rfind('/');
        relative = slash == 0 || slash == std::string::npos ? "/" : relative.substr(0, slash);
    }
    return smallest;
}

} // namespace skyscript::pipeline
