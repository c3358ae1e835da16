#include "pipeline/state/build_lock.hpp"

#include "imagery/url_redaction.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/live_writer.hpp"
#include "pipeline/common/shell_word.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

std::optional<bool> build_lock_held(const std::string& out_dir) {
    const auto path = BuildDir(out_dir).lock();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false; // no lock file: no build ever held it
    std::ifstream locks("/proc/locks");
    if (!locks) return std::nullopt;
    // "1: FLOCK  ADVISORY  WRITE 4321 08:01:1234567 0 EOF": the lock's file as major:minor:inode.
    // The inode alone is matched: on an overlay file system (a container's) stat's device is the
    // overlay's, the lock's the layer's, while the inode number is the same.
    std::string inode = ":";
    inode += std::to_string(st.st_ino); // not `":" + ...`: GCC 12 -Wrestrict
    for (std::string line; std::getline(locks, line);) {
        std::istringstream words(line);
        std::string number, kind, advisory, mode, pid, where;
        words >> number >> kind;
        if (kind == "->") continue; // one waiting for the lock, not holding it
        words >> advisory >> mode >> pid >> where;
        if (kind == "FLOCK" && where.ends_with(inode)) return true;
    }
    // Not listed (a file system that reports its inodes otherwise): the holder the file names,
    // if it still runs as the process that wrote it (live_writer.hpp).
    std::istringstream holder(build_lock_holder(out_dir));
    std::string word;
    long pid = 0;
    if (!(holder >> word >> pid) || word != "process" || pid <= 0) return false;
    return live_process_wrote(pid, path);
}

namespace {

std::string& command_line_storage() {
    static std::string line = "skyscript-build";
    return line;
}

std::string read_holder(int fd) {
    std::string text(512, '\0');
    const auto n = ::pread(fd, text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
    for (char& c : text)
        if (c == '\n') c = ' ';
    return text;
}

} // namespace

std::string build_lock_holder(const std::string& out_dir) {
    const int fd = ::open(BuildDir(out_dir).lock().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return "";
    auto holder = read_holder(fd);
    ::close(fd);
    return holder;
}

void set_command_line(int argc, char** argv) {
    std::string line = "skyscript-build";
    for (int i = 1; i < argc; ++i) {
        // A URL's secrets are not kept: the line goes into OUT/build.lock, which stays after
        // the run (a refused `--llm-endpoint http://user:pw@host/?key=...` was kept there).
        line += ' ' + shell_word(imagery::redact_url(argv[i]));
    }
    command_line_storage() = line;
}

const std::string& command_line() { return command_line_storage(); }

BuildLock::BuildLock(const std::string& out_dir, const std::string& command) {
    std::error_code ec;
    // SQLite opens no file whose full name is 512 bytes or more: a long OUT failed part way
    // ("unable to open database file"), after OUT and its catalog were begun.
    constexpr std::size_t sqlite_max_name = 511;
    const auto longest = (fs::absolute(out_dir, ec) / "polish_answers.sqlite-journal").string();
    if (longest.size() > sqlite_max_name)
        throw std::runtime_error(out_dir + ": a path of " + std::to_string(longest.size() - 30) + " bytes, too long for OUT: SQLite opens no file whose name is over " +
                                 std::to_string(sqlite_max_name) + " bytes, and OUT's would be up to " + std::to_string(longest.size()) + "; use a shorter -o");
    if (out_dir.empty()) throw UsageError("-o \"\": the output folder's name is empty");
    out_dir_ = out_dir;
    made_out_ = !fs::exists(out_dir, ec);
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
        throw std::runtime_error(out_dir + ": cannot create output folder (" + (ec ? ec.message() : "not a folder") + ")");
    const auto path = BuildDir(out_dir).lock();
    own_file(path);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644); // not through a link planted since
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open the build lock (" + std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const auto holder = read_holder(fd_);
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            throw std::runtime_error(out_dir + ": another build is running on this folder (" +
                                     (holder.empty() ? std::string("its process has not said who it is yet") : holder) +
                                     "); wait for it to end or stop it, or use another -o");
        throw std::runtime_error(path + ": cannot lock (" + std::strerror(err) + ")");
    }
    // Who holds it, for the message another run prints: pid, start time, command.
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::string who = "process " + std::to_string(::getpid()) + " since " + when + ": " + command + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, who.data(), who.size(), 0) != static_cast<ssize_t>(who.size())) {
        // The lock holds without the note: only the message of a second run is poorer.
    }
}

BuildLock::~BuildLock() {
    if (fd_ < 0) return;
    if (made_out_) { // still holding the lock, so no other run is using the folder
        std::error_code ec;
        bool only_lock = true;
        for (const auto& e : fs::directory_iterator(out_dir_, ec))
            if (e.path().filename() != fs::path(BuildDir(out_dir_).lock()).filename()) only_lock = false;
        if (!ec && only_lock) {
            fs::remove(BuildDir(out_dir_).lock(), ec);
            fs::remove(out_dir_, ec);
        }
    }
    ::close(fd_); // closing the only descriptor releases the lock
}

} // namespace skyscript::pipeline
