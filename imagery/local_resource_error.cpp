#include "imagery/local_resource_error.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace skyscript::imagery {

void stop_if_out_of_file_descriptors(const std::string& failed, int reported_errno) {
    int err = reported_errno;
    if (err != EMFILE && err != ENFILE) {
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ::close(fd);
            return;
        }
        err = errno;
        if (err != EMFILE && err != ENFILE) return;
    }
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    throw LocalResourceError(std::string("out of file descriptors (") + std::strerror(err) + ", ulimit -n " +
                             (limit.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(limit.rlim_cur)) +
                             "): raise it or lower --in-flight; the jobs stay planned (" + failed + ")");
}

} // namespace skyscript::imagery
