#include "osm/scratch_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <fcntl.h>
#include <unistd.h>

namespace skyscript::osm {

void ScratchFile::open_in(const std::string& dir, std::string what) {
    dir_ = dir;
    what_ = std::move(what);
    fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return;
    static int serial = 0;
    const auto path = (std::filesystem::path(dir) / ("scratch-" + std::to_string(::getpid()) + "-" + std::to_string(++serial) + ".tmp")).string();
    fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "cannot create a scratch file in " + dir);
    ::unlink(path.c_str());
}

int write_all_at(int fd, std::uint64_t offset, const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const char*>(data);
    for (std::size_t done = 0; done < n;) {
        const auto got = ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return got < 0 ? errno : ENOSPC;
        done += static_cast<std::size_t>(got);
    }
    return 0;
}

void ScratchFile::write_at(std::uint64_t offset, const void* data, std::size_t n) const {
    if (const int e = write_all_at(fd, offset, data, n)) throw std::runtime_error(dir_ + ": cannot write " + what_ + " (" + std::strerror(e) + ")");
}

void ScratchFile::read_at(std::uint64_t offset, void* data, std::size_t n) const {
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < n;) {
        const auto got = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw std::runtime_error(dir_ + ": cannot read " + what_ + " back (" + std::strerror(errno) + ")");
        if (got == 0) throw std::runtime_error(dir_ + ": " + what_ + " is shorter than written");
        done += static_cast<std::size_t>(got);
    }
}

void ScratchFile::release(std::uint64_t offset, std::uint64_t n) const noexcept {
    if (n) (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(n));
}

ScratchFile::~ScratchFile() {
    if (fd >= 0) ::close(fd);
}

} // namespace skyscript::osm
