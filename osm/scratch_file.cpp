#include "osm/scratch_file.hpp"

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <fcntl.h>
#include <unistd.h>

namespace skyscript::osm {

void ScratchFile::open_in(const std::string& dir) {
    fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return;
    static int serial = 0;
    const auto path = (std::filesystem::path(dir) / ("scratch-" + std::to_string(::getpid()) + "-" + std::to_string(++serial) + ".tmp")).string();
    fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "cannot create a scratch file in " + dir);
    ::unlink(path.c_str());
}

ScratchFile::~ScratchFile() {
    if (fd >= 0) ::close(fd);
}

} // namespace skyscript::osm
