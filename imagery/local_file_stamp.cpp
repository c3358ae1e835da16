#include "imagery/local_file_stamp.hpp"


#include <sys/stat.h>

namespace skyscript::imagery {

std::string local_file_stamp(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_size) + ":" + std::to_string(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec);
}

} // namespace skyscript::imagery
