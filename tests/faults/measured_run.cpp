#include "measured_run.hpp"

#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace skyscript::test {

MeasuredRun run_measured(const std::vector<std::string>& argv, const std::vector<std::string>& env, double deadline_s) {
    static std::atomic<int> counter{0};
    const auto base = std::filesystem::path(SKYSCRIPT_SCRATCH) / ("measured-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(SKYSCRIPT_SCRATCH);
    const std::string out_path = base.string() + ".out", err_path = base.string() + ".err";
    // Everything the child needs is made before fork: a child of a threaded process may only call async-signal-safe functions.
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0) throw std::runtime_error(base.string() + ": cannot open the capture files");
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    MeasuredRun r;
    int status = 0;
    rusage usage{};
    const auto deadline = start + std::chrono::duration<double>(deadline_s);
    for (;;) {
        const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
        if (done == pid) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            r.timed_out = true;
            ::kill(pid, SIGKILL);
            ::wait4(pid, &status, 0, &usage);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.peak_rss_kb = usage.ru_maxrss;
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    std::filesystem::remove(out_path);
    std::filesystem::remove(err_path);
    return r;
}

} // namespace skyscript::test
