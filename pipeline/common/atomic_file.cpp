#include "pipeline/common/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::pipeline {

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
    static std::atomic<unsigned> counter{0};
    tmp_ = path_ + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path_ + ": cannot write (" + std::strerror(errno) + ")");
}

AtomicFileWriter::~AtomicFileWriter() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(tmp_.c_str());
    }
}

void AtomicFileWriter::append(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= (1u << 20)) flush();
}

void AtomicFileWriter::flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(path_ + ": cannot write (" + std::strerror(n < 0 ? errno : EIO) + ")");
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

void AtomicFileWriter::commit() {
    flush();
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp_.c_str());
        throw std::runtime_error(path_ + ": cannot write (" + std::strerror(err) + ")");
    }
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
    AtomicFileWriter w(path);
    w.append(bytes);
    w.commit();
}

namespace {

// Whether the process that writes `name` (NAME.partial-PID-N) is another one still running:
// `report` writes beside a running build without its lock, and its files are not a killed
// run's. This process's own are left by an earlier stage's killed writer of the same PID, or
// none: a stage clears them before it writes. A process alive under the PID now is the writer
// only if it is no zombie and started before the file was last written: after a reboot or a
// container's restart the PID is reused, and the killed run's files stayed for ever.
bool written_by_another_live_process(const std::filesystem::path& file) {
    const auto name = file.filename().string();
    const auto at = name.find(".partial-");
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + at + 9, &end, 10);
    if (end == name.c_str() + at + 9 || *end != '-' || pid <= 0 || pid == ::getpid()) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
    // /proc/PID/stat: "pid (comm) state ..." with the start time (clock ticks after boot) 20 fields after the state.
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat_line;
    std::getline(stat_file, stat_line);
    const auto close = stat_line.rfind(')');
    if (close == std::string::npos) return true; // no /proc: taken for the writer
    std::istringstream fields(stat_line.substr(close + 1));
    std::string state, field;
    fields >> state;
    if (state == "Z" || state == "X") return false; // dead, not yet reaped
    for (int i = 0; i < 18 && fields >> field;) ++i;
    unsigned long long start_ticks = 0;
    if (!(fields >> start_ticks)) return true;
    std::ifstream proc_stat("/proc/stat");
    long long boot = -1;
    for (std::string key; proc_stat >> key;) {
        if (key == "btime") {
            proc_stat >> boot;
            break;
        }
        proc_stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    struct stat st {};
    if (boot < 0 || ticks <= 0 || ::stat(file.c_str(), &st) != 0) return true;
    const double started = static_cast<double>(boot) + static_cast<double>(start_ticks) / static_cast<double>(ticks);
    return started <= static_cast<double>(st.st_mtime) + 2; // 2 s: btime is whole seconds, and a clock may be stepped a little
}

} // namespace

std::size_t remove_partial_files(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const auto name = e.path().filename().string();
        if (name.find(".partial-") == std::string::npos || written_by_another_live_process(e.path())) continue;
        if (std::filesystem::remove(e.path(), ec)) ++n;
    }
    return n;
}

} // namespace skyscript::pipeline
