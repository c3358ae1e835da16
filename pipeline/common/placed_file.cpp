#include "pipeline/common/placed_file.hpp"


#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::pipeline {


namespace {

bool same_bytes(const std::string& a, const std::string& b) {
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    if (!fa || !fb) return false;
    char ba[1 << 16], bb[1 << 16];
    for (;;) {
        fa.read(ba, sizeof ba);
        fb.read(bb, sizeof bb);
        if (fa.gcount() != fb.gcount() || std::memcmp(ba, bb, static_cast<std::size_t>(fa.gcount())) != 0) return false;
        if (!fa || !fb) return !fa && !fb;
    }
}

// `from`'s bytes into a new file `to`; 0, or the errno of the call that failed.
// std::filesystem::copy_file told a full disk as "Input/output error", or as "Success"
// (red-team round 33: sendfile's short write has no errno).
int copy_bytes(const std::string& from, const std::string& to) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return errno;
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        const int err = errno;
        ::close(in);
        return err;
    }
    int err = 0;
    std::vector<char> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err = errno;
        if (n <= 0) break;
        for (ssize_t done = 0; done < n && !err;) {
            const ssize_t w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) err = errno;
            else if (w == 0) err = ENOSPC;
            else done += w;
        }
        if (err) break;
    }
    ::close(in);
    if (::close(out) != 0 && !err) err = errno; // NFS and quotas tell a failed write here
    return err;
}

std::string temporary_name(const std::string& to) {
    static std::atomic<unsigned> counter{0};
    return to + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
    throw std::runtime_error(path + ": cannot " + what + " (" + std::strerror(err) + ")");
}

} // namespace

std::optional<std::uint64_t> placed_size(const std::string& path, std::int64_t bytes) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (bytes >= 0 && st.st_size != bytes)) return std::nullopt;
    return static_cast<std::uint64_t>(st.st_size);
}

Placement place_file(const std::string& from, const std::string& to) {
    struct stat src {}, dst {};
    // A link's target is no file of a build: an image or meta file made a link to one outside
    // would bring its bytes into the dataset (or, hard-linked, the link itself into hf/).
    if (::lstat(from.c_str(), &src) != 0) fail(from, "read", errno);
    if (S_ISLNK(src.st_mode)) throw std::runtime_error(from + ": a symbolic link, where a file of the build's own was expected; not placed");
    if (!S_ISREG(src.st_mode)) throw std::runtime_error(from + ": not a regular file; not placed");
    if (::stat(to.c_str(), &dst) == 0) {
        if (src.st_dev == dst.st_dev && src.st_ino == dst.st_ino) return Placement::present;
        if (src.st_size == dst.st_size && same_bytes(from, to)) return Placement::present;
    }
    const auto tmp = temporary_name(to);
    Placement how = Placement::linked;
    if (::link(from.c_str(), tmp.c_str()) != 0) {
        const int err = errno;
        if (err != EXDEV && err != EPERM && err != EMLINK) fail(to, "link " + from, err);
        if (const int copy_err = copy_bytes(from, tmp)) {
            ::unlink(tmp.c_str());
            fail(to, "copy " + from, copy_err);
        }
        how = Placement::copied;
    }
    if (std::rename(tmp.c_str(), to.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail(to, "write", err);
    }
    return how;
}

} // namespace skyscript::pipeline
