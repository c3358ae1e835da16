#pragma once
// nginx (Debian's nginx-light), started by a test on 127.0.0.1 to serve a folder: a real HTTP
// server with range requests, as COG readers meet in the wild. Its config, pid, logs and
// temp files live in a work folder of its own; it stops when this object goes.

#include "test_support.hpp"

#include <cstdint>
#include <string>

namespace skyscript::test {

class NginxServer {
public:
    // Serves `root` at "/"; `extra_server_config` is pasted inside the server block (e.g.
    // a location that asks another server whether a request may be served). On `port`
    // (from free_loopback_port(), when its URLs must be known before it starts), or on one
    // it picks.
    NginxServer(const std::string& root, const std::string& work_dir, const std::string& extra_server_config = "", int port = 0);
    ~NginxServer();
    NginxServer(const NginxServer&) = delete;
    NginxServer& operator=(const NginxServer&) = delete;

    int port() const noexcept { return port_; }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    // Requests served so far (lines of its access log), or those with this method and status.
    std::int64_t requests(const std::string& method = "", int status = 0) const;

private:
    std::string work_;
    int pid_ = -1, port_ = 0;
};

} // namespace skyscript::test
