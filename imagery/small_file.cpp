#include "imagery/small_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::imagery {

SmallFile read_small_file(const std::string& path, std::uintmax_t max_bytes) {
    SmallFile f;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        f.why = errno == ENOENT ? "no such file" : std::strerror(errno);
        return f;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) f.why = std::strerror(errno);
    else if (S_ISDIR(st.st_mode)) f.why = "is a directory, not a file";
    else if (!S_ISREG(st.st_mode)) f.why = not_a_file_words;
    else if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) f.too_big = true, f.size = static_cast<std::uintmax_t>(st.st_size);
    if (f.why.empty() && !f.too_big) {
        std::string text(static_cast<std::size_t>(st.st_size), '\0');
        std::size_t got = 0;
        while (got < text.size()) {
            const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) f.why = std::strerror(errno);
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        text.resize(got);
        if (f.why.empty()) f.bytes = std::move(text);
    }
    ::close(fd);
    return f;
}

} // namespace skyscript::imagery
