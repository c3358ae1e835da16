#include "nginx_server.hpp"

#include "test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace skyscript::test {

namespace {

bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}

std::string config(const std::string& root, const std::string& work, int port, const std::string& extra) {
    std::ostringstream c;
    c << "daemon off;\nworker_processes 1;\npid " << work << "/nginx.pid;\nerror_log " << work << "/error.log warn;\n";
    // As root, nginx's workers would become `nobody`, who may not enter a clone only its
    // owner can (the build's scratch is inside it): they stay who started them.
    if (::geteuid() == 0) c << "user root;\n";
    c << "events { worker_connections 128; }\nhttp {\n"
      << "  access_log " << work << "/access.log;\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) c << "  " << t << "_temp_path " << work << "/tmp_" << t << ";\n";
    c << "  types { image/tiff tif tiff; application/json json; application/geo+json geojson; }\n"
      << "  default_type application/octet-stream;\n"
      << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << root << ";\n" << extra << "\n  }\n}\n";
    return c.str();
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

} // namespace

NginxServer::NginxServer(const std::string& root, const std::string& work_dir, const std::string& extra, int port) : work_(work_dir) {
    std::filesystem::create_directories(work_);
    std::string why;
    for (int attempt = 0; attempt < (port ? 1 : 5); ++attempt) {
        port_ = port ? port : free_loopback_port();
        const auto conf = work_ + "/nginx.conf";
        std::filesystem::remove(work_ + "/nginx.pid");
        write_file(conf, config(std::filesystem::absolute(root).string(), std::filesystem::absolute(work_).string(), port_, extra));
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("nginx: fork failed");
        if (pid_ == 0) {
            ::execl("/usr/sbin/nginx", "nginx", "-p", work_.c_str(), "-e", (work_ + "/error.log").c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 200; ++i) { // up to 10 s
            // Ours, not another process on the port: nginx writes its pid file only once it has
            // bound its sockets (a port taken since free_loopback_port() makes it exit instead).
            if (accepts(port_) && trimmed(read_file(work_ + "/nginx.pid")) == std::to_string(pid_)) return;
            int status;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        why = read_file(work_ + "/error.log");
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    throw std::runtime_error("nginx did not start (is nginx-light installed?): " + why);
}

NginxServer::~NginxServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM); // the master stops its workers, then itself
    ::waitpid(pid_, nullptr, 0);
}

std::int64_t NginxServer::requests(const std::string& method, int status) const {
    // The combined log format: 127.0.0.1 - - [time] "GET /x HTTP/1.1" 206 1234 "-" "-"
    std::string code = " ";
    code += std::to_string(status);
    code += ' ';
    std::int64_t n = 0;
    for (const auto& l : lines(read_file(work_ + "/access.log"))) {
        const auto q = l.find('"');
        const auto end = q == std::string::npos ? q : l.find('"', q + 1);
        if (end == std::string::npos) continue;
        if (!method.empty() && l.compare(q + 1, method.size() + 1, method + " ") != 0) continue;
        if (status != 0 && l.compare(end + 1, code.size(), code) != 0) continue;
        ++n;
    }
    return n;
}

} // namespace skyscript::test
