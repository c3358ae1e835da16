#include "pipeline/common/atomic_file.hpp"
#include "pipeline/common/live_writer.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <stdexcept>

#include <fcntl.h>
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
// none: a stage clears them before it writes.
bool written_by_another_live_process(const std::filesystem::path& file) {
    const auto name = file.filename().string();
    const auto at = name.rfind(".partial-");
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + at + 9, &end, 10);
    // NAME.partial-PID-N; fetch-one's GeoTIFFs were NAME.partial-PID.tif.
    if (end == name.c_str() + at + 9 || (*end != '-' && *end != '.') || pid <= 0 || pid == ::getpid()) return false;
    return live_process_wrote(pid, file);
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

std::size_t remove_partial_files_of(const std::string& path) {
    const std::filesystem::path p(path);
    const auto prefix = p.filename().string() + ".partial-";
    const auto dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with(prefix)) continue;
        // Only a lone writer's own: PID-0 (its one AtomicFile, or GeoTIFF), or PID.tif (fetch-one's
        // GeoTIFFs before); a user's FILE.partial-notes or FILE.partial-2024-01 is no temporary of ours.
        const auto rest = std::string_view(name).substr(prefix.size());
        const auto digits = rest.find_first_not_of("0123456789");
        const auto tail = digits == std::string_view::npos ? std::string_view() : rest.substr(digits);
        const bool ours = digits > 0 && digits != std::string_view::npos && (tail == ".tif" || tail == "-0");
        if (!ours || written_by_another_live_process(e.path())) continue;
        if (std::filesystem::remove(e.path(), ec)) ++n;
    }
    return n;
}

} // namespace skyscript::pipeline
