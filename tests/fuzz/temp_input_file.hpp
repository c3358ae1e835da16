#pragma once
// A file holding the fuzz input, for code that reads paths (the PBF reader, the sources
// and tag-list loaders). One folder per process under $TMPDIR (or /tmp), reused across
// inputs and removed at exit, so millions of runs leave nothing behind.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace skyscript::fuzz {

class TempFolder {
public:
    static const TempFolder& instance() {
        static const TempFolder folder;
        return folder;
    }
    const std::filesystem::path& path() const noexcept { return path_; }
    ~TempFolder() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

private:
    TempFolder() {
        const char* tmp = std::getenv("TMPDIR");
        path_ = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("skyscript-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path_);
    }
    std::filesystem::path path_;
};

// Writes `bytes` to TempFolder/`name` (replacing it) and returns the path.
inline std::string write_temp_file(const std::string& name, std::string_view bytes) {
    const auto path = (TempFolder::instance().path() / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
    return path;
}

} // namespace skyscript::fuzz
